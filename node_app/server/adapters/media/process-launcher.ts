import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface LaunchedExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What it wrote to stderr: all of it up to 16,000 bytes, else the first 12,000 and the last 4,000. */
  stderr: string;
  /** The first 2000 bytes it wrote to stdout, when asked for; else empty. */
  stdout: string;
}

export interface Launched {
  /** Settles when the process has exited; rejects if it could not start (or the launcher died). */
  exited: Promise<LaunchedExit>;
  /** SIGKILL; `exited` settles once it is gone. */
  kill(): void;
}

/**
 * A local socket that a launched command connects to, to stream its input or output through (ffmpeg's
 * `unix:` protocol), while this process holds the other end.
 */
export interface StreamSocket {
  /** What to give ffmpeg as its input or output. */
  url: string;
  /** The command's connection; rejects once `close` is called before it connected. */
  connected: Promise<Socket>;
  /** Stops waiting for the connection (the command ended, or was never started). */
  close(): void;
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
  pid?: number;
  killed: boolean;
  captureStdout: boolean;
}

/**
 * The launcher itself: a bash loop that reads commands on its stdin (NUL-separated fields: id, niceness,
 * whether to keep stdout, the argument count, the arguments), starts each in the background at that niceness
 * with stderr (and stdout, if kept) in files of its folder, and reports `spawned <id> <pid>`,
 * `exit <id> <status>` or `failed <id> <reason>` on its stdout. When its stdin ends — the server closed it or
 * died, even by SIGKILL — it removes its folder and kills its whole process group: itself and every command it
 * started.
 */
const LAUNCHER_SCRIPT = `
set -u
dir=$1
while IFS= read -r -d '' id; do
  IFS= read -r -d '' niceness; IFS= read -r -d '' capture; IFS= read -r -d '' argc
  args=()
  for ((i = 0; i < argc; i++)); do IFS= read -r -d '' arg; args+=("$arg"); done
  if ! command -v -- "\${args[0]}" >/dev/null 2>&1; then echo "failed $id ENOENT"; continue; fi
  out=/dev/null
  if [ "$capture" = 1 ]; then out="$dir/$id.out"; fi
  if [ "$niceness" != 0 ]; then args=(nice -n "$niceness" -- "\${args[@]}"); fi
  (
    "\${args[@]}" </dev/null >"$out" 2>"$dir/$id.err" &
    echo "spawned $id $!"
    wait $!
    echo "exit $id $?"
  ) 2>/dev/null &
done
rm -rf -- "$dir"
kill -KILL 0
`;

const STDERR_HEAD = 12_000;
const STDERR_TAIL = 4_000;
const STDOUT_HEAD = 2_000;

/**
 * Starts short-lived commands (every ffmpeg: probes, decodes, encodes) from a small helper process instead of
 * from the server. fork() copies the page tables of the process that spawns: from a server holding its models
 * (300+ MB) one spawn blocked the event loop 50–200 ms on a busy machine, from the helper it costs the server
 * a line written to a pipe. The helper is bash, not a second Node process: a dyno's memory limit counts every
 * process in it, and a forked Node held 46–48 MB of RSS where bash holds 3 MB (and 1.6 MB for each command it
 * waits on). It kills what it started when the server disappears, even by SIGKILL.
 */
export class ProcessLauncher {
  private child: ChildProcess | null = null;
  private dir = '';
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** Starts the helper now, while the server is still small and its own fork is cheap. */
  start(): void {
    this.helper();
  }

  /**
   * The launcher's private folder, which it removes when the server goes, however it goes: for files only this
   * process needs (command output, sockets, the banks' decoded samples). A launcher that had to be started again
   * has a new one.
   */
  get folder(): string {
    this.helper();
    return this.dir;
  }

  run(command: string, args: string[], options: { niceness?: number; captureStdout?: boolean } = {}): Launched {
    const helper = this.helper();
    const id = this.nextId++;
    const captureStdout = options.captureStdout ?? false;
    const exited = new Promise<LaunchedExit>((resolve, reject) => this.pending.set(id, { resolve, reject, killed: false, captureStdout }));
    const niceness = Math.max(0, Math.min(19, Math.round(options.niceness ?? 0)));
    const fields = [String(id), String(niceness), captureStdout ? '1' : '0', String(args.length + 1), command, ...args];
    helper.stdin?.write(fields.map((field) => `${field}\0`).join(''));
    this.refWhileRunning();
    return {
      exited,
      kill: () => {
        const waiter = this.pending.get(id);
        if (!waiter) return;
        waiter.killed = true;
        if (waiter.pid) killProcess(waiter.pid);
      },
    };
  }

  /** A socket in the launcher's private folder for one command started later to connect to. */
  socket(): StreamSocket {
    this.helper();
    const socketPath = path.join(this.dir, `${this.nextId++}.sock`);
    const server = createServer();
    let listening = true;
    // One connection is all it takes: the listener goes as soon as it has it, or when given up.
    const stop = (): boolean => {
      if (!listening) return false;
      listening = false;
      server.close();
      return true;
    };
    let fail: (error: Error) => void = () => undefined;
    const connected = new Promise<Socket>((resolve, reject) => {
      fail = reject;
      server.once('connection', (socket) => {
        stop();
        resolve(socket);
      });
      server.once('error', (error) => {
        stop();
        reject(error);
      });
    });
    connected.catch(() => undefined);
    server.listen(socketPath);
    server.unref();
    return {
      url: `unix:${socketPath}`,
      connected,
      close: () => {
        if (stop()) fail(new LaunchError('the command did not connect'));
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
    child.stdin?.end();
    await gone;
  }

  private helper(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      // A tmp cleaner may have removed the folder; the commands' output files and sockets need it.
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      return this.child;
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'enricher-launcher-'));
    // Its own process group, so that its last act, killing that group, reaches every command and nothing else.
    const child = spawn('bash', ['-c', LAUNCHER_SCRIPT, 'process-launcher', dir], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    createInterface({ input: child.stdout! }).on('line', (line) => void this.onLine(dir, line));
    child.stdin?.on('error', () => undefined);
    child.once('exit', () => {
      if (this.child === child) this.child = null;
      rmSync(dir, { recursive: true, force: true });
      // Whatever it was running went with it (it kills its process group when it goes).
      for (const [id, waiter] of this.pending) {
        this.pending.delete(id);
        waiter.reject(new LaunchError('the process launcher stopped'));
      }
    });
    this.child = child;
    this.dir = dir;
    this.unrefWhenIdle();
    return child;
  }

  private async onLine(dir: string, line: string): Promise<void> {
    const [kind, idText, detail] = line.split(' ');
    const id = Number(idText);
    const waiter = this.pending.get(id);
    if (!waiter) return;
    if (kind === 'spawned') {
      waiter.pid = Number(detail);
      if (waiter.killed) killProcess(waiter.pid);
      return;
    }
    this.pending.delete(id);
    this.unrefWhenIdle();
    if (kind === 'failed') {
      waiter.reject(new LaunchError(`could not start: ${detail}`));
      return;
    }
    const status = Number(detail);
    // bash reports a command killed by signal N as 128 + N (ffmpeg's own codes stay below 129, or are 255).
    const signal = status > 128 && status < 255 ? signalName(status - 128) : null;
    const files = path.join(dir, String(id));
    const [stderr, stdout] = await Promise.all([
      readHeadAndTail(`${files}.err`, STDERR_HEAD, STDERR_TAIL),
      waiter.captureStdout ? readHeadAndTail(`${files}.out`, STDOUT_HEAD, 0) : '',
    ]);
    waiter.resolve({ code: signal ? null : status, signal, stderr, stdout });
  }

  /** A command running keeps a CLI run or a test alive until it ends; an idle helper does not. */
  private refWhileRunning(): void {
    this.child?.ref();
    (this.child?.stdout as Socket | null)?.ref();
  }

  private unrefWhenIdle(): void {
    if (this.pending.size > 0) return;
    this.child?.unref();
    (this.child?.stdout as Socket | null)?.unref();
    (this.child?.stdin as Socket | null)?.unref();
  }
}

function killProcess(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function signalName(number: number): NodeJS.Signals | null {
  const found = Object.entries(os.constants.signals).find(([, value]) => value === number);
  return found ? (found[0] as NodeJS.Signals) : null;
}

/**
 * A command's output file, bounded — its start says what ffmpeg read (the probe's report), its end why it
 * stopped (an encode's last error) — and then deleted.
 */
async function readHeadAndTail(file: string, head: number, tail: number): Promise<string> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const read = async (position: number, length: number): Promise<string> => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return buffer.toString('utf8', 0, bytesRead);
    };
    if (size <= head + tail) return await read(0, size);
    const start = await read(0, head);
    return tail > 0 ? `${start}\n…\n${await read(size - tail, tail)}` : start;
  } finally {
    await handle.close();
    await rm(file, { force: true });
  }
}
