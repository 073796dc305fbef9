import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { execFile } from 'node:child_process';
import { concatPlanar, sanitizeInPlace, type Pcm } from '../../engine/pcm.js';

const require = createRequire(import.meta.url);

export interface FfmpegBinary {
  path: string;
  source: 'FFMPEG_PATH' | 'system' | 'bundled';
  /** Set when a system ffmpeg was asked for but none was found, so the fallback is logged rather than silent. */
  fallbackReason?: string;
}

export interface ResolveFfmpegOptions {
  /** Prefer an `ffmpeg` on PATH, e.g. the one Heroku's apt buildpack installs from the Aptfile. */
  preferSystem?: boolean;
  /** The PATH to search; the process's own by default. */
  searchPath?: string;
}

/**
 * FFMPEG_PATH wins; then, where configured, the system's ffmpeg — a distribution build gets security fixes,
 * which matters on a server that decodes strangers' files; then the static build that @ffmpeg-installer
 * ships, which needs no setup and is the default everywhere else.
 */
export function resolveFfmpeg(configured?: string, options: ResolveFfmpegOptions = {}): FfmpegBinary {
  if (configured) return { path: configured, source: 'FFMPEG_PATH' };
  let fallbackReason: string | undefined;
  if (options.preferSystem) {
    const system = findExecutable('ffmpeg', options.searchPath ?? process.env.PATH ?? '');
    if (system) return { path: system, source: 'system' };
    fallbackReason = 'a system ffmpeg was configured but none is on PATH';
  }
  const installer = require('@ffmpeg-installer/ffmpeg') as { path: string };
  return { path: installer.path, source: 'bundled', ...(fallbackReason ? { fallbackReason } : {}) };
}

/** The first executable file called `name` in a PATH-style list of folders, like `command -v`. */
export function findExecutable(name: string, searchPath: string): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      if (statSync(candidate).isFile()) {
        accessSync(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // Not there or not executable: keep looking, as a shell would.
    }
  }
  return null;
}

export interface ProbeResult {
  sampleRate: number | null;
  channelLayout: string;
  durationSeconds: number | null;
}

/**
 * Reads the first audio stream's properties from `ffmpeg -i` (the bundled build has no ffprobe). Returns null
 * when ffmpeg finds no audio stream at all. `ffmpeg -i` without an output always exits with 1, so only a
 * signal, a timeout or a binary that cannot start count as ffmpeg failing.
 */
export function probeAudio(binary: string, input: string, timeoutMs: number): Promise<ProbeResult | null> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-hide_banner', '-nostdin', '-i', input], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, _stdout, stderr) => {
      const failure = error as (Error & { killed?: boolean; signal?: string | null; code?: number | string }) | null;
      if (failure?.killed) return reject(new FfmpegError('ffmpeg took too long to read the file', 'timeout'));
      if (failure?.signal) return reject(new FfmpegError(`ffmpeg was killed with ${failure.signal}`, 'crashed'));
      if (typeof failure?.code === 'string') return reject(new FfmpegError(`ffmpeg could not start: ${failure.code}`, 'crashed'));
      resolve(parseProbe(String(stderr)));
    });
  });
}

export function parseProbe(stderr: string): ProbeResult | null {
  const audio = /Stream #\d+:\d+.*?: Audio: ([^\n]*)/.exec(stderr);
  if (!audio) return null;
  const fields = audio[1].split(',').map((f) => f.trim());
  const rate = fields.map((f) => /^(\d+) Hz$/.exec(f)).find(Boolean);
  const layout = fields.find((f) => /^(mono|stereo|\d+(\.\d+)?(\(\w+\))?|\d+ channels|quad.*|\w+\(.*\))$/.test(f)) ?? 'unknown';
  const duration = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
  return {
    sampleRate: rate ? Number(rate[1]) : null,
    channelLayout: layout,
    durationSeconds: duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : null,
  };
}

export interface FfmpegDecodeOptions {
  sampleRate: number;
  channels: 1 | 2;
  startSeconds?: number;
  /** ffmpeg stops by itself after this much output, so hours of silence never get decoded. */
  maxSeconds: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export class FfmpegError extends Error {
  constructor(
    message: string,
    /** failed: ffmpeg refused the input; crashed: ffmpeg itself died or could not start. */
    readonly reason: 'failed' | 'crashed' | 'timeout' | 'aborted',
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

/** Decodes any input ffmpeg understands to planar float32, all of it; the server uses {@link streamWithFfmpeg}. */
export async function decodeWithFfmpeg(binary: string, input: string, options: FfmpegDecodeOptions): Promise<Pcm> {
  const parts: Float32Array[][] = [];
  for await (const chunk of streamWithFfmpeg(binary, input, options)) parts.push(chunk);
  return { sampleRate: options.sampleRate, channels: concatPlanar(parts, options.channels) };
}

/**
 * Decodes to planar float32 slices as ffmpeg's stdout delivers them. Reading is pulled by the consumer, so a
 * slow consumer pauses the pipe and ffmpeg with it rather than piling the song up in memory. Stopping the
 * iteration early (an error downstream, a cancelled job) kills ffmpeg.
 */
export async function* streamWithFfmpeg(binary: string, input: string, options: FfmpegDecodeOptions): AsyncGenerator<Float32Array[]> {
  const command = ffmpeg(input)
    .setFfmpegPath(binary)
    .inputOptions(options.startSeconds ? ['-ss', String(options.startSeconds)] : [])
    .noVideo()
    .audioChannels(options.channels)
    .audioFrequency(options.sampleRate)
    .audioCodec('pcm_f32le')
    .format('f32le')
    .outputOptions(['-t', String(options.maxSeconds), '-map', '0:a:0']);

  let failure: FfmpegError | null = null;
  let exited = false;
  let onExit: () => void = () => undefined;
  const exit = new Promise<void>((resolve) => {
    onExit = resolve;
  });
  const stream = command.pipe();
  const fail = (error: FfmpegError): void => {
    failure ??= error;
    stream.destroy(failure);
  };
  const onAbort = () => fail(new FfmpegError('decoding was cancelled', 'aborted'));
  // The time limit counts only the time spent waiting for ffmpeg: while the consumer holds a slice (the model
  // is working on the song) ffmpeg is paused by the pipe, and that must not count as ffmpeg being slow.
  let remainingMs = options.timeoutMs;
  let waitingSince = 0;
  let timer: NodeJS.Timeout | undefined;
  const waitForFfmpeg = (): void => {
    waitingSince = performance.now();
    timer = setTimeout(() => fail(new FfmpegError('ffmpeg took too long to decode the file', 'timeout')), Math.max(0, remainingMs));
  };
  const holdClock = (): void => {
    clearTimeout(timer);
    remainingMs -= performance.now() - waitingSince;
  };
  waitForFfmpeg();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // fluent-ffmpeg reports a death by signal (OOM killer, a crash) only in the message.
  command.on('error', (error: Error) => {
    exited = true;
    fail(new FfmpegError(error.message, /killed with signal|spawn|ENOENT|EACCES/.test(error.message) ? 'crashed' : 'failed'));
    onExit();
  });
  command.on('end', () => {
    exited = true;
    onExit();
  });

  const deinterleave = new Deinterleaver(options.channels);
  try {
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (failure) break;
        const planar = deinterleave.write(chunk);
        if (planar[0].length === 0) continue;
        holdClock();
        yield planar;
        waitForFfmpeg();
      }
    } catch (error) {
      throw failure ?? new FfmpegError(error instanceof Error ? error.message : String(error), 'failed');
    }
    // Both must happen: stdout can end cleanly a moment before ffmpeg's exit reports that it was killed.
    await exit;
    if (failure) throw failure;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (!exited) command.kill('SIGKILL');
  }
}

const ENCODERS: Record<'mp3' | 'flac' | 'ogg', string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-q:a', '2'],
  flac: ['-c:a', 'flac'],
  ogg: ['-c:a', 'libvorbis', '-q:a', '5'],
};

export type CompressedFormat = keyof typeof ENCODERS;

/** Encodes a WAV master into a compressed format. */
export function encodeWithFfmpeg(
  binary: string,
  wavPath: string,
  format: CompressedFormat,
  output: string,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const command = ffmpeg(wavPath).setFfmpegPath(binary).outputOptions(ENCODERS[format]).format(format);
    const timer = setTimeout(() => {
      command.kill('SIGKILL');
      reject(new FfmpegError('ffmpeg took too long to encode', 'timeout'));
    }, timeoutMs);
    command
      .on('error', (error: Error) => {
        clearTimeout(timer);
        reject(new FfmpegError(error.message, 'failed'));
      })
      .on('end', () => {
        clearTimeout(timer);
        resolve();
      })
      .save(output);
  });
}

/** Turns ffmpeg's interleaved little-endian float32 byte stream into planar slices as it arrives. */
class Deinterleaver {
  private carry = Buffer.alloc(0);

  constructor(private readonly channelCount: number) {}

  write(chunk: Buffer): Float32Array[] {
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const frameBytes = 4 * this.channelCount;
    const whole = Math.floor(bytes.length / frameBytes);
    // A float view reads the samples without a call per sample (readFloatLE was most of the decode time);
    // it needs 4-byte alignment, which a pipe chunk usually has and a copy provides when it does not.
    // f32le matches the byte order of every machine this runs on (x86-64, arm64).
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes.subarray(0, whole * frameBytes));
    const floats = new Float32Array(aligned.buffer, aligned.byteOffset, whole * this.channelCount);
    const planar = Array.from({ length: this.channelCount }, () => new Float32Array(whole));
    for (let c = 0; c < this.channelCount; c++) {
      const channel = planar[c];
      for (let f = 0, at = c; f < whole; f++, at += this.channelCount) {
        channel[f] = floats[at];
      }
      sanitizeInPlace(channel);
    }
    this.carry = Buffer.from(bytes.subarray(whole * frameBytes));
    return planar;
  }
}
