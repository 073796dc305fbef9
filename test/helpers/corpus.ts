import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpeg } from '../../node_app/server/adapters/media/ffmpeg/binary.js';
import { fixtureDir, makeClip } from './audio.js';

const run = promisify(execFile);
const ffmpeg = resolveFfmpeg(process.env.FFMPEG_PATH).path;

/** Writes bytes into the fixture folder under `name` and returns the path. */
export async function writeFixture(name: string, bytes: Uint8Array | string): Promise<string> {
  const file = path.join(await fixtureDir(), name);
  await writeFile(file, bytes);
  return file;
}

/** The first `fraction` of a file: what a download cut short leaves behind. */
export async function truncated(source: string, fraction: number, name: string): Promise<string> {
  const bytes = await readFile(source);
  return writeFixture(name, bytes.subarray(0, Math.floor(bytes.length * fraction)));
}

/**
 * A canonical 44-byte-header WAV built by hand, so the header can say what it likes: `declaredDataBytes`
 * defaults to the real size, and a larger value makes a header that promises more than the file holds.
 */
export function wavBytes(options: {
  sampleRate: number;
  channels: number;
  samples: Float32Array | Int16Array;
  declaredDataBytes?: number;
}): Buffer {
  const isFloat = options.samples instanceof Float32Array;
  const bytesPerSample = isFloat ? 4 : 2;
  const data = Buffer.from(options.samples.buffer, options.samples.byteOffset, options.samples.byteLength);
  const declared = options.declaredDataBytes ?? data.length;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(Math.min(0xffffffff, 36 + declared), 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(isFloat ? 3 : 1, 20);
  header.writeUInt16LE(options.channels, 22);
  header.writeUInt32LE(options.sampleRate, 24);
  header.writeUInt32LE(options.sampleRate * options.channels * bytesPerSample, 28);
  header.writeUInt16LE(options.channels * bytesPerSample, 32);
  header.writeUInt16LE(bytesPerSample * 8, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(declared, 40);
  return Buffer.concat([header, data]);
}

/** A mono float sine, with NaN and ±Infinity scattered through it when `poison` is set. */
export function floatSine(sampleRate: number, seconds: number, poison: boolean): Float32Array {
  const samples = new Float32Array(Math.round(sampleRate * seconds));
  for (let i = 0; i < samples.length; i++) samples[i] = 0.4 * Math.sin((2 * Math.PI * 330 * i) / sampleRate);
  if (poison) {
    for (let i = 0; i < samples.length; i += 997) samples[i] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][i % 3];
  }
  return samples;
}

/** Any ffmpeg lavfi source rendered to a file, e.g. hours of silence or 8 channels. */
export async function renderLavfi(name: string, source: string, output: string[]): Promise<string> {
  const file = path.join(await fixtureDir(), name);
  await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source, ...output, file]);
  return file;
}

/** A one-frame PNG, a real image that ffmpeg opens but that has no audio. */
export function pngImage(): Promise<string> {
  return renderLavfi('picture.mp3', 'color=c=red:s=16x16', ['-frames:v', '1', '-c:v', 'png', '-f', 'image2']);
}

/** The smallest valid zip archive: an end-of-central-directory record and nothing else. */
export function emptyZip(): Buffer {
  const record = Buffer.alloc(22);
  record.writeUInt32LE(0x06054b50, 0);
  return record;
}

/**
 * A stand-in for ffmpeg that misbehaves only when asked to decode (its command line then asks for f32le on
 * stdout); probing and capability queries go to the real binary, so the fault is met mid-job.
 */
export async function faultyFfmpeg(name: string, fault: 'hang' | 'die' | 'crash', when: 'always' | 'decode'): Promise<string> {
  const action = { hang: 'exec sleep 600', die: 'kill -KILL $$', crash: 'kill -SEGV $$' }[fault];
  const guard = when === 'always' ? 'true' : 'case " $* " in *" f32le "*) true ;; *) false ;; esac';
  const script = `#!/bin/sh\nif ${guard}; then ${action}; fi\nexec ${JSON.stringify(ffmpeg)} "$@"\n`;
  const file = await writeFixture(name, script);
  await chmod(file, 0o755);
  return file;
}

export { makeClip };
