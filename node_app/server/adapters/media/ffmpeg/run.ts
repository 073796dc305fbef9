import type { Socket } from 'node:net';
import { LaunchError, type LaunchedExit, type ProcessLauncher, type StreamSocket } from '../process-launcher.js';

/**
 * failed: ffmpeg refused the input or its output; crashed: it died of a fault (SIGSEGV, SIGABRT, …) on this
 * input; killed: something outside killed it (SIGKILL from the OOM killer); unavailable: it could not start;
 * disk-full: it could not write its output; timeout: it took too long, or went silent, and was stopped.
 */
export type FfmpegFailure = 'failed' | 'crashed' | 'killed' | 'unavailable' | 'disk-full' | 'timeout';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly reason: FfmpegFailure,
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

export interface RunOptions {
  /** Wall time it may take in all: past it ffmpeg is killed, and the run fails as a timeout with `message`. */
  timeout?: { ms: number; message: string };
  /** Aborting kills ffmpeg; the run fails with the signal's reason. */
  signal?: AbortSignal;
  /** Added to ffmpeg's nice value: work that can wait (a download's encode) yields to work that cannot. */
  niceness?: number;
  /** The socket ffmpeg's command line names as its input or output, which this process streams into or out of. */
  socket?: StreamSocket;
  captureStdout?: boolean;
}

/** One ffmpeg run, supervised. */
export interface FfmpegRun {
  /** ffmpeg's connection to `socket`, once it has made it; rejects if it ends without one, or none was asked for. */
  pipe: Promise<Socket>;
  /**
   * Settles once ffmpeg has exited, whatever ended it, so whoever awaits it never leaves an ffmpeg running:
   * resolves with the exit of an ffmpeg that ended by itself, rejects with why it did not (a signal, a failed
   * start, the timeout, the abort, or what `stop` was given).
   */
  exited: Promise<LaunchedExit>;
  /** Kills ffmpeg; the run fails with `error`, unless it had already failed. */
  stop(error: Error): void;
}

/**
 * Every ffmpeg the server runs (probe, decode, encodes, version) starts here: in the launcher process, with one
 * watch over its time, its cancellation and how it ended.
 */
export function runFfmpeg(launcher: ProcessLauncher, binary: string, args: string[], options: RunOptions = {}): FfmpegRun {
  options.signal?.throwIfAborted();
  const launched = launcher.run(binary, args, { niceness: options.niceness, captureStdout: options.captureStdout });
  let failure: Error | null = null;
  const stop = (error: Error): void => {
    failure ??= error;
    launched.kill();
  };
  const { timeout } = options;
  const timer = timeout ? setTimeout(() => stop(new FfmpegError(timeout.message, 'timeout')), timeout.ms) : undefined;
  const onAbort = (): void => stop(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const exited = launched.exited
    .then(
      (exit) => {
        if (failure) throw failure;
        if (exit.signal) throw new FfmpegError(`ffmpeg was killed with ${exit.signal}`, signalFailure(exit.signal));
        return exit;
      },
      (error: unknown) => {
        throw failure ?? new FfmpegError(`ffmpeg could not start: ${error instanceof Error ? error.message : String(error)}`, 'unavailable');
      },
    )
    .finally(() => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // An ffmpeg that ended without connecting never will.
      options.socket?.close();
    });
  // Whoever asks sees the failure; until then it must not count as unhandled.
  exited.catch(() => undefined);
  const pipe = options.socket?.connected ?? Promise.reject(new LaunchError('no socket was asked for'));
  pipe.catch(() => undefined);
  return { pipe, exited, stop };
}

/** An ffmpeg that wrote a file ended well only if it exited 0 and said nothing of a full disk. */
export function checkWritten({ code, stderr }: LaunchedExit): void {
  const lastLine = stderr.trim().split('\n').pop() ?? '';
  // ffmpeg (4.1 and 5.1 alike) exits 0 when writing the end of its output fails: only stderr tells.
  if (/No space left on device|Disk quota exceeded/i.test(stderr)) throw new FfmpegError(`ffmpeg could not write: ${lastLine}`, 'disk-full');
  if (code !== 0) throw new FfmpegError(`ffmpeg exited with code ${code}: ${lastLine}`, 'failed');
}

/** A fault signal comes from inside ffmpeg, reading this input; SIGKILL and SIGTERM come from outside it. */
function signalFailure(signal: string): 'crashed' | 'killed' {
  return signal === 'SIGKILL' || signal === 'SIGTERM' ? 'killed' : 'crashed';
}
