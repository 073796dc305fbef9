import { once } from 'node:events';
import type { CompressedFormat } from '../../../../contract/index.js';
import type { ProcessLauncher } from '../process-launcher.js';
import { interleave16 } from '../../../../engine/pcm.js';
import { encodeArgs, streamEncodeArgs, type PcmLayout } from './policy.js';
import { checkWritten, FfmpegError, runFfmpeg, type RunOptions } from './run.js';

export interface EncodeOptions {
  timeoutMs: number;
  /** Aborting kills the encoder; the promise settles once it has exited. */
  signal?: AbortSignal;
  /** Added to the encoder's nice value: a download may wait a little, the HTTP loop and the jobs may not. */
  niceness?: number;
}

function runOptions(options: EncodeOptions): RunOptions {
  return { timeout: { ms: options.timeoutMs, message: 'ffmpeg took too long to encode' }, signal: options.signal, niceness: options.niceness };
}

/**
 * Encodes a WAV master into a compressed format. Settles only when ffmpeg has exited, whether it finished,
 * failed, timed out or was cancelled, so a caller that awaits it never leaves an encoder running.
 */
export async function encodeWithFfmpeg(
  launcher: ProcessLauncher,
  binary: string,
  wavPath: string,
  format: CompressedFormat,
  output: string,
  options: EncodeOptions,
): Promise<void> {
  checkWritten(await runFfmpeg(launcher, binary, encodeArgs(wavPath, format, output), runOptions(options)).exited);
}

/** An encoder that takes planar slices as they come; the file is complete once `close` has resolved. */
export interface PcmEncoder {
  write(channels: Float32Array[]): Promise<void>;
  /** Ends the input and waits for ffmpeg to finish the file; rejects with the encode's failure. */
  close(): Promise<void>;
  /** Kills the encoder and waits for it to exit, after a failure elsewhere; the caller deletes the file. */
  abort(): Promise<void>;
}

/** Frames converted and handed to the pipe at a time. */
const STREAM_CHUNK_FRAMES = 16384;

/**
 * Starts an encoder fed through a local socket, like every encode (same niceness, one thread, timeout and
 * cancellation); writes wait while the socket is full, so ffmpeg's pace holds back the writer.
 */
export function streamEncodeWithFfmpeg(
  launcher: ProcessLauncher,
  binary: string,
  layout: PcmLayout,
  format: CompressedFormat,
  output: string,
  options: EncodeOptions & { tags?: Record<string, string> },
): PcmEncoder {
  const input = launcher.socket();
  const run = runFfmpeg(launcher, binary, streamEncodeArgs(layout, format, input.url, output, options.tags), { ...runOptions(options), socket: input });
  const finished = run.exited.then(checkWritten);
  // Whoever writes or closes sees the failure; until then it must not count as unhandled.
  finished.catch(() => undefined);
  const early = finished.then(() => {
    throw new FfmpegError('ffmpeg stopped before the end of its input', 'failed');
  });
  early.catch(() => undefined);
  const pipe = run.pipe.then(
    (socket) => {
      // A write to an encoder that has died fails with EPIPE; `finished` says why it died.
      socket.on('error', () => undefined);
      return socket;
    },
    // No connection means no encoder: its exit says why.
    () => early,
  );
  pipe.catch(() => undefined);
  const scratch = new Int16Array(STREAM_CHUNK_FRAMES * layout.channels);
  return {
    async write(channels) {
      const socket = await pipe;
      const total = channels[0]?.length ?? 0;
      for (let start = 0; start < total; start += STREAM_CHUNK_FRAMES) {
        // The socket keeps what it cannot send at once, so each piece is a copy of the scratch.
        const bytes = Buffer.from(interleave16(channels, start, Math.min(STREAM_CHUNK_FRAMES, total - start), scratch));
        // A pipe that breaks waits for ffmpeg's exit, which says why.
        if (!socket.write(bytes)) await Promise.race([once(socket, 'drain'), early]).catch(() => early);
      }
    },
    async close() {
      (await pipe.catch(() => null))?.end();
      await finished;
    },
    async abort() {
      run.stop(new FfmpegError('the encode was stopped', 'killed'));
      await finished.catch(() => undefined);
    },
  };
}
