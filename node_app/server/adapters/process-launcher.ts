import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface LaunchedExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last 2000 characters it wrote to stderr. */
  stderr: string;
  /** The first 2000 characters it wrote to stdout, when asked for; else empty. */
  stdout: string;
}

export interface Launched {
  /** Settles when the process has exited; rejects if it could not start (or the launcher died). */
  exited: Promise<LaunchedExit>;
  /** SIGKILL; `exited` settles once it is gone. */
  kill(): void;
}

/** A local socket a launched command reads its input from (`unix:<path>` for ffmpeg), fed by this process. */
export interface InputSocket {
  path: string;
  /** The command's connection, to write its input into; rejects once `close` is called before it connected. */
  connected: Promise<Socket>;
  /** Stops waiting for the connection (the command ended or was never started). */
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
 * The launcher itself: a bash loop that reads commands (NUL-separated fields) on its stdin, starts each at the
 * niceness asked for with its output in files of the launcher's folder, and reports `spawned <id> <pid>`,
 * `exit <id> <status>` or `failed <id> <reason>` on its stdout. When its stdin ends — the server closed it or
 * died, even by SIGKILL — it removes its folder and kills its whole process group, itself and every command
 * it started.
 */
const LAUNCHER_SCRIPT = `
set -u
dir=$1
while IFS= read -r -d '' verb; do
  IFS= read -r -d '' id; IFS= read -r -d '' niceness; IFS= read -r -d '' capture; IFS= read -r -d '' argc
  args=()
  for ((i = 0; i < argc; i++)); do IFS= read -r -d '' arg; args+=("$arg"); done
  [ "$verb" = run ] || continue
  if ! command -v -- "\${args[0]}" >/dev/null 2>&1; then echo "failed $id ENOENT"; continue; fi
  out=/dev/null
  if [ "$capture" = 1 ]; then out="$dir/$id.out"; fi
  (
    nice -n "$niceness" -- "\${args[@]}" </dev/null >"$out" 2>"$dir/$id.err" &
    echo "spawned $id $!"
    wait $!
    echo "exit $id $?"
  ) &
done
rm -rf -- "$dir"
kill -KILL 0
`;

/**
 * Starts short-lived commands (result encodes, ffmpeg's version) from a small helper process instead of from
 * the server. fork() copies the page tables of the process that spawns: from a server holding its models
 * (300+ MB) one spawn blocked the event loop 50–200 ms on a busy machine, from the helper it costs the server
 * a line written to a pipe. The helper is bash, not a second Node process (46–48 MB of RSS): a dyno's limit
 * counts it. It kills what it started when the server disappears, even by SIGKILL.
 */
export class ProcessLauncher {
  private child: ChildProcess | null = null;
  private dir: string | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** Starts the helper now, while the server is still small and its own fork is cheap. */
  start(): void {
    this.helper();
  }

  run(command: string, args: string[], options: { niceness?: number; captureStdout?: boolean } = {}): Launched {
    const helper = this.helper();
    const id = this.nextId++;
    const captureStdout = options.captureStdout ?? false;
    const exited = new Promise<LaunchedExit>((resolve, reject) => this.pending.set(id, { resolve, reject, killed: false, captureStdout }));
    const fields = ['run', String(id), String(Math.round(options.niceness ?? 0)), captureStdout ? '1' : '0', String(args.length + 1), command, ...args];
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

  /** A socket in the launcher's private folder that a command started later connects to for its input. */
  inputSocket(): InputSocket {
    this.helper();
    const socketPath = path.join(this.dir!, `in-${this.nextId++}.sock`);
    const server: Server = createServer();
    let listening = true;
    // One connection is all it takes; the listener goes as soon as it has it, or when given up.
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
      server.once('error', reject);
    });
    connected.catch(() => undefined);
    server.listen(socketPath);
    server.unref();
    return {
      path: socketPath,
      connected,
      close: () => {
        if (stop()) fail(new LaunchError('the command did not connect to its input'));
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
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'enricher-launcher-'));
    // Its own process group, so that its last act, killing that group, reaches every command and nothing else.
    const child = spawn('bash', ['-c', LAUNCHER_SCRIPT, 'process-launcher', dir], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    createInterface({ input: child.stdout! }).on('line', (line) => void this.onLine(line));
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

  private async onLine(line: string): Promise<void> {
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
    // bash reports a command killed by signal N as 128 + N.
    const signal = status > 128 ? signalName(status - 128) : null;
    const files = path.join(this.dir ?? os.tmpdir(), String(id));
    const [stderr, stdout] = await Promise.all([readTail(`${files}.err`, -2000), waiter.captureStdout ? readTail(`${files}.out`, 2000) : '']);
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

/** The first (`limit` > 0) or last (`limit` < 0) characters of a command's output file, which is then deleted. */
async function readTail(file: string, limit: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  await rm(file, { force: true });
  return limit > 0 ? text.slice(0, limit) : text.slice(limit);
}
