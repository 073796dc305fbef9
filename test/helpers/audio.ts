import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import wavefile from 'wavefile';
import { resolveFfmpeg } from '../../node_app/server/adapters/media/ffmpeg/binary.js';
import { loadConfig } from '../../node_app/server/config.js';

const run = promisify(execFile);
const ffmpeg = resolveFfmpeg(process.env.FFMPEG_PATH).path;
// Durations are measured with the ffmpeg the server decodes with: builds differ on where a file's audio ends
// (the bundled 4.1 ignores Ogg's end trimming and finds 10 ms more in a Vorbis file than 5.1 does).
const serverFfmpeg = resolveFfmpeg(process.env.FFMPEG_PATH, { preferSystem: loadConfig(process.env).useSystemFfmpeg }).path;

export interface ToneSpec {
  seconds: number;
  sampleRate: number;
  channels: 1 | 2;
  /** ffmpeg output options that pick the codec, e.g. ['-c:a', 'libmp3lame']. */
  codec?: string[];
  extension: string;
}

let workDir: Promise<string> | null = null;
export function fixtureDir(): Promise<string> {
  workDir ??= mkdtemp(path.join(os.tmpdir(), 'enricher-fixtures-'));
  return workDir;
}

/** A test clip made with the bundled ffmpeg: a sine sweep with a beat, different in each channel. */
export async function makeClip(spec: ToneSpec): Promise<string> {
  const dir = await fixtureDir();
  const file = path.join(dir, `clip-${spec.seconds}s-${spec.sampleRate}-${spec.channels}ch.${spec.extension}`);
  const left = `0.4*sin(2*PI*(220+200*t)*t)*(0.6+0.4*sin(2*PI*2*t))`;
  const right = `0.3*sin(2*PI*330*t)*(0.5+0.5*sin(2*PI*3*t))`;
  const expr = spec.channels === 2 ? `${left}|${right}` : left;
  await run(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `aevalsrc=${expr}:s=${spec.sampleRate}:d=${spec.seconds}`,
    ...(spec.codec ?? []), file,
  ]);
  return file;
}

export interface WavSummary {
  sampleRate: number;
  channels: number;
  frames: number;
  seconds: number;
  samples: Float64Array[];
}

export function readWavBytes(bytes: Uint8Array): WavSummary {
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  const raw = wav.getSamples(false) as unknown as Float64Array | Float64Array[];
  const samples = fmt.numChannels === 1 ? [raw as Float64Array] : (raw as Float64Array[]);
  return { sampleRate: fmt.sampleRate, channels: fmt.numChannels, frames: samples[0].length, seconds: samples[0].length / fmt.sampleRate, samples };
}

export async function readWavFile(file: string): Promise<WavSummary> {
  return readWavBytes(await readFile(file));
}

/** Duration, rate and channels of any audio file, read by decoding it with ffmpeg. */
export async function probe(file: string): Promise<{ seconds: number; sampleRate: number; channels: number }> {
  const wav = path.join(await fixtureDir(), `probe-${path.basename(file)}-${Date.now()}.wav`);
  await run(serverFfmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', file, '-c:a', 'pcm_f32le', wav]);
  const summary = new wavefile.WaveFile(await readFile(wav));
  const fmt = summary.fmt as { sampleRate: number; numChannels: number; };
  const frames = (summary.data as { chunkSize: number }).chunkSize / (4 * fmt.numChannels);
  return { seconds: frames / fmt.sampleRate, sampleRate: fmt.sampleRate, channels: fmt.numChannels };
}

/** Supertest buffers binary bodies with this parser; at run time `res` is the HTTP response stream. */
export function binaryParser(res: unknown, done: (err: Error | null, body: Buffer) => void): void {
  const stream = res as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}
