import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export type ToLauncher =
  | { type: 'run'; id: number; command: string; args: string[]; niceness: number; captureStdout: boolean; pipe: LaunchPipe | null }
  | { type: 'kill'; id: number };

/** Which of the command's standard streams is handed to the server, to stream into or out of. */
export type LaunchPipe = 'stdin' | 'stdout';

/** `spawned` carries the command's pipe as a handle when one was asked for. */
export type FromLauncher =
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }
  | { type: 'failed'; id: number; reason: string };

export interface LaunchedExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What it wrote to stderr: all of it up to 16,000 characters, else the first 12,000 and the last 4,000. */
  stderr: string;
  /** The first 2000 characters it wrote to stdout, when asked for; else empty. */
  stdout: string;
}

export interface Launched {
  /** Settles when the process has exited; rejects if it could not start (or the launcher died). */
  exited: Promise<LaunchedExit>;
  /** The pipe asked for (its stdin or its stdout), once it has started; without one it rejects. */
  pipe: Promise<Socket>;
  /** SIGKILL; `exited` settles once it is gone. */
  kill(): void;
}

export class LaunchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LaunchError';
  }
}

interface Pending {
  resolve(exit: LaunchedExit): void;
  reject(error: Error): void;
  spawned(pipe: Socket | undefined): void;
}

/**
 * Starts short-lived commands (every ffmpeg: probes, decodes, encodes) from a small helper process instead of from the server. fork()
 * copies the page tables of the process that spawns: from a server holding its models (300+ MB) one spawn
 * blocked the event loop 50–200 ms on a busy machine, from the helper it costs the server a message. The
 * helper also kills what it started when the server disappears, even by SIGKILL.
 */
export class ProcessLauncher {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** Starts the helper now, while the server is still small and its own fork is cheap. */
  start(): void {
    this.helper();
  }

  /**
   * With `pipe` the launcher hands the command's stdin or stdout over to this process (a pipe handle passed
   * over IPC), so the server streams into or out of a command it did not fork.
   */
  run(command: string, args: string[], options: { niceness?: number; captureStdout?: boolean; pipe?: LaunchPipe } = {}): Launched {
    const helper = this.helper();
    const id = this.nextId++;
    let spawned: (pipe: Socket | undefined) => void = () => undefined;
    const pipe = new Promise<Socket>((resolve, reject) => {
      spawned = (handle) => (handle ? resolve(handle) : reject(new LaunchError('the command has no pipe')));
    });
    const exited = new Promise<LaunchedExit>((resolve, reject) =>
      this.pending.set(id, {
        resolve,
        reject: (error) => {
          spawned(undefined);
          reject(error);
        },
        spawned,
      }),
    );
    // Whoever does not ask for a pipe does not wait for it either.
    pipe.catch(() => undefined);
    helper.send({ type: 'run', id, command, args, niceness: options.niceness ?? 0, captureStdout: options.captureStdout ?? false, pipe: options.pipe ?? null } satisfies ToLauncher);
    helper.channel?.ref();
    return {
      exited,
      pipe,
      kill: () => {
        if (this.pending.has(id) && helper.connected) helper.send({ type: 'kill', id } satisfies ToLauncher);
      },
    };
  }

  /** Stops the helper, which kills whatever it still runs; resolves once the helper has exited. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    await gone;
  }

  private helper(): ChildProcess {
    if (this.child?.connected) return this.child;
    const child = fork(helperPath(), [], {
      execArgv: import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    child.on('message', (message: FromLauncher, handle?: Socket) => this.onMessage(message, handle));
    // An idle helper must not keep a CLI run or a test alive; a running command does (see run and settle).
    child.unref();
    child.channel?.unref();
    child.once('exit', () => {
      if (this.child === child) this.child = null;
      // Whatever it was running went with it (it kills its children when it goes).
      for (const [id, waiter] of this.pending) {
        this.pending.delete(id);
        waiter.reject(new LaunchError('the process launcher stopped'));
      }
    });
    this.child = child;
    return child;
  }

  private onMessage(message: FromLauncher, handle: Socket | undefined): void {
    const waiter = this.pending.get(message.id);
    if (!waiter) {
      handle?.destroy();
      return;
    }
    if (message.type === 'spawned') {
      waiter.spawned(handle);
      return;
    }
    waiter.spawned(undefined);
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.child?.channel?.unref();
    if (message.type === 'failed') waiter.reject(new LaunchError(`could not start: ${message.reason}`));
    else waiter.resolve({ code: message.code, signal: message.signal, stderr: message.stderr, stdout: message.stdout });
  }
}

/** Compiled, the helper is a .js file beside this one; from the TypeScript sources it runs under tsx. */
function helperPath(): string {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`./process-launcher.child${extension}`, import.meta.url));
}
