import type { Socket } from 'node:net';
import { sanitizeInPlace } from '../../../../engine/pcm.js';
import type { LaunchedExit, ProcessLauncher } from '../process-launcher.js';
import { decodeArgs, type DecodeArgs } from './policy.js';
import { FfmpegError, runFfmpeg } from './run.js';

export interface FfmpegDecodeOptions extends DecodeArgs {
  /**
   * Decoding stops after this many seconds of samples, so hours of silence never get decoded. Samples are
   * counted, not timestamps: in a file whose timestamps run fast (MP3s of different rates joined end to end)
   * ffmpeg's own `-t` stops early and hides how long the audio really is.
   */
  maxSeconds: number;
  /** Time spent waiting for ffmpeg, in all. */
  timeoutMs: number;
  /** Wall time ffmpeg may go without sending a byte while it is waited for: a decoder that waits on a stream
   * uses no CPU and would otherwise hold its worker for the whole `timeoutMs`. */
  stallTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Decodes to planar float32 slices as ffmpeg's output socket delivers them. Reading is pulled by the consumer, so a
 * slow consumer pauses the pipe and ffmpeg with it rather than piling the song up in memory. Stopping the
 * iteration early (an error downstream, a cancelled job) kills ffmpeg.
 */
export async function* streamWithFfmpeg(launcher: ProcessLauncher, binary: string, input: string, options: FfmpegDecodeOptions): AsyncGenerator<Float32Array[]> {
  const socket = launcher.socket();
  const run = runFfmpeg(launcher, binary, decodeArgs(input, socket.url, options), { signal: options.signal, socket });
  // The time limit counts only the time spent waiting for ffmpeg: while the consumer holds a slice (the model
  // is working on the song) ffmpeg is paused by the pipe, and that must not count as ffmpeg being slow.
  let remainingMs = options.timeoutMs;
  let waitingSince = 0;
  let timer: NodeJS.Timeout | undefined;
  const stallMs = Math.min(options.stallTimeoutMs ?? options.timeoutMs, options.timeoutMs);
  let stallTimer: NodeJS.Timeout | undefined;
  const expectProgress = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => run.stop(new FfmpegError(`ffmpeg sent nothing for ${Math.round(stallMs)} ms`, 'timeout')), stallMs);
  };
  const waitForFfmpeg = (): void => {
    waitingSince = performance.now();
    timer = setTimeout(() => run.stop(new FfmpegError('ffmpeg took too long to decode the file', 'timeout')), Math.max(0, remainingMs));
    expectProgress();
  };
  const holdClock = (): void => {
    clearTimeout(timer);
    clearTimeout(stallTimer);
    remainingMs -= performance.now() - waitingSince;
  };

  const deinterleave = new Deinterleaver(options.channels);
  const maxFrames = Math.round(options.maxSeconds * options.sampleRate);
  let emitted = 0;
  let output: Socket | null = null;
  let ended = false;
  waitForFfmpeg();
  try {
    // No connection means ffmpeg did not get as far as its output: its end says why.
    output = await run.pipe.catch(() => run.exited.then((exit) => Promise.reject(exitFailure(exit) ?? new FfmpegError('ffmpeg gave no output', 'failed'))));
    for await (const chunk of output as AsyncIterable<Buffer>) {
      expectProgress();
      const planar = deinterleave.write(chunk);
      if (planar[0].length === 0) continue;
      const room = maxFrames - emitted;
      const slice = planar[0].length > room ? planar.map((channel) => channel.subarray(0, room)) : planar;
      emitted += slice[0].length;
      holdClock();
      yield slice;
      waitForFfmpeg();
      // Enough: the finally below stops ffmpeg, which would otherwise go on decoding for nobody.
      if (emitted >= maxFrames) return;
    }
    // The output can end cleanly a moment before ffmpeg's exit reports that it failed or was killed.
    const exit = await run.exited;
    ended = true;
    const failure = exitFailure(exit);
    if (failure) throw failure;
  } catch (error) {
    // A pipe torn down under the reader says less than the exit that tore it.
    if (!(error instanceof FfmpegError) && !ended) await run.exited;
    throw error;
  } finally {
    clearTimeout(timer);
    clearTimeout(stallTimer);
    if (!ended) {
      run.stop(new FfmpegError('the decode was stopped by its reader', 'killed'));
      output?.destroy();
      await run.exited.catch(() => undefined);
    }
  }
}

function exitFailure({ code, stderr }: LaunchedExit): FfmpegError | null {
  return code === 0 ? null : new FfmpegError(`ffmpeg exited with code ${code}: ${stderr.trim().split('\n').pop() ?? ''}`, 'failed');
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
