import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BenchInput {
  name: string;
  file: string;
  seconds: number;
  channels: 1 | 2;
  format: 'wav' | 'mp3';
}

/**
 * Music-like material made by ffmpeg at run time, so the bench needs no fixtures: a swept tone with a beat
 * and a little noise, different in each channel, at 44.1 kHz. 16-bit WAV and 192 kbit/s MP3, as people upload.
 * ffmpeg's expression source is slow, so 30 s of it are made once per channel count and looped to length.
 */
export async function makeInput(ffmpeg: string, dir: string, seconds: number, channels: 1 | 2, format: 'wav' | 'mp3'): Promise<BenchInput> {
  const name = `${seconds >= 60 ? `${seconds / 60}min` : `${seconds}s`}-${channels === 2 ? 'stereo' : 'mono'}-${format}`;
  const file = path.join(dir, `${name}.${format}`);
  const codec = format === 'mp3' ? ['-c:a', 'libmp3lame', '-b:a', '192k'] : ['-c:a', 'pcm_s16le'];
  const base = await baseClip(ffmpeg, dir, channels);
  await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', '-1', '-i', base, '-t', String(seconds), ...codec, file]);
  return { name, file, seconds, channels, format };
}

const bases = new Map<string, Promise<string>>();

function baseClip(ffmpeg: string, dir: string, channels: 1 | 2): Promise<string> {
  const file = path.join(dir, `base-${channels}ch.wav`);
  let made = bases.get(file);
  if (!made) {
    const left = '0.35*sin(2*PI*(220+30*sin(2*PI*0.05*t))*t)*(0.55+0.45*sin(2*PI*2*t))+0.05*(random(0)-0.5)';
    const right = '0.3*sin(2*PI*330*t)*(0.5+0.5*sin(2*PI*3*t))+0.05*(random(1)-0.5)';
    const expr = channels === 2 ? `${left}|${right}` : left;
    made = run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc=${expr}:s=44100:d=30`, '-c:a', 'pcm_f32le', file]).then(() => file);
    bases.set(file, made);
  }
  return made;
}

/**
 * The floor: ffmpeg alone decoding the upload and encoding the output format, no enrichment. To WAV that is the
 * decode (and a 16-bit write); to MP3 from MP3, ffmpeg's own transcode.
 */
export async function ffmpegFloor(ffmpeg: string, input: BenchInput, format: 'wav' | 'mp3', output: string): Promise<number> {
  const codec = format === 'mp3' ? ['-c:a', 'libmp3lame', '-q:a', '2'] : ['-c:a', 'pcm_s16le'];
  const started = performance.now();
  await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', input.file, ...codec, output]);
  return (performance.now() - started) / 1000;
}
