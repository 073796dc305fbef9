import { spawn, type ChildProcess } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../node_app/server/deploy/boot-probe.js';
import { processTree, statusKb } from '../test/helpers/memory.js';
import type { BenchInput } from './inputs.js';

/**
 * A multipart POST through node:http, which waits for the answer as long as it takes: fetch gives up when the
 * headers take over 300 s, and a 10-minute song answered in one request took longer on the shared VM at load 24.
 */
async function postForm(url: string, form: FormData): Promise<{ status: number; body: Buffer }> {
  const encoded = new Response(form);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': encoded.headers.get('content-type')! } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    Readable.fromWeb(encoded.body! as WebReadableStream).pipe(req);
  });
}

export interface LagStats {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export interface RequestResult {
  seconds: number;
  bytes: number;
}

/** The compiled server (`dist/server/main.js`) in its own process, as `npm start` runs it, listening on 127.0.0.1. */
export class BenchServer {
  private readonly exited: Promise<void>;
  private readonly pending = new Map<string, (message: unknown) => void>();
  readonly startedAt: number;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    this.startedAt = performance.now();
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (message: { type?: string }) => {
      const waiter = message.type ? this.pending.get(message.type) : undefined;
      if (waiter && message.type) {
        this.pending.delete(message.type);
        waiter(message);
      }
    });
  }

  static async start(env: Record<string, string>): Promise<BenchServer> {
    const port = await freePort();
    const probe = fileURLToPath(new URL('./lag-probe.mjs', import.meta.url));
    // The Procfile's allocator settings and V8 flags, so the bench measures the process Heroku runs.
    const web = await procfileLine('web');
    const child = spawn(process.execPath, [...web.nodeFlags, '--import', probe, web.script], {
      env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), ...web.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return new BenchServer(child, port);
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /**
   * Seconds from spawning the process until `path` first answers 200. A ready server has decoded its banks
   * (about 80 ffmpegs): on the shared 2-core VM at load 20 that took over 60 s, so the bench waits 3 minutes.
   */
  async waitFor(path: string, timeoutSeconds = 180): Promise<number> {
    const deadline = this.startedAt + timeoutSeconds * 1000;
    while (performance.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`server exited with code ${this.child.exitCode}`);
      try {
        const res = await fetch(this.url(path));
        await res.arrayBuffer();
        if (res.ok) return (performance.now() - this.startedAt) / 1000;
      } catch {
        // Not listening yet.
      }
      await sleep(5);
    }
    throw new Error(`${path} did not answer 200 within ${timeoutSeconds} s`);
  }

  async enrich(input: BenchInput, fields: Record<string, string>): Promise<RequestResult> {
    const form = new FormData();
    form.set('audio', await openAsBlob(input.file), `${input.name}.${input.format}`);
    for (const [key, value] of Object.entries(fields)) form.set(key, value);
    const started = performance.now();
    const { status, body } = await postForm(this.url('/api/enrich'), form);
    if (status !== 200) throw new Error(`POST /api/enrich answered ${status}: ${body.toString('utf8').slice(0, 300)}`);
    return { seconds: (performance.now() - started) / 1000, bytes: body.byteLength };
  }

  resetLag(): Promise<unknown> {
    return this.ask('lag-reset', 'lag-reset-done');
  }

  readLag(): Promise<LagStats> {
    return this.ask('lag-read', 'lag') as Promise<LagStats>;
  }

  /** Peak resident memory of the server process since it started; its worker threads share the process. */
  async peakRssMb(): Promise<number> {
    return (await statusKb(this.child.pid!, 'VmHWM')) / 1024;
  }

  /**
   * Resident memory right now: of the server process itself (its worker threads included), and RSS and PSS
   * summed over it and every process below it (encoder launcher, ffmpeg). PSS splits the pages the forked
   * launcher shares with the server, so the tree's PSS is what the processes cost together.
   */
  async treeMemoryKb(): Promise<{ nodeRssKb: number; treeRssKb: number; treePssKb: number }> {
    const pid = this.child.pid!;
    const pids = await processTree(pid);
    let nodeRssKb = 0;
    let treeRssKb = 0;
    let treePssKb = 0;
    for (const p of pids) {
      const rollup = await readFile(`/proc/${p}/smaps_rollup`, 'utf8').catch(() => '');
      const rss = Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      if (p === pid) nodeRssKb = rss;
      treeRssKb += rss;
      treePssKb += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    }
    return { nodeRssKb, treeRssKb, treePssKb };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
  }

  private ask(type: string, answer: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.set(answer, resolve);
      this.child.send({ type }, (error) => error && reject(error));
    });
  }
}

/** Latency of /healthz polled from outside while the server works: what a load balancer would see. */
export function pollHealth(server: BenchServer, intervalMs = 100): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await fetch(server.url('/healthz')).then((r) => r.arrayBuffer()).catch(() => undefined);
      latencies.push(performance.now() - started);
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies;
    },
  };
}

const live = new Set<ChildProcess>();
// A bench that fails half way must not leave servers running on a shared machine.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A distributed mode's `worker:` process (`dist/server/worker-main.js`), as the Procfile runs it. */
export class BenchWorker {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  /** Resolves once the worker has loaded its models and takes jobs. */
  static async start(env: Record<string, string>, timeoutSeconds = 60): Promise<BenchWorker> {
    const worker = await procfileLine('worker');
    const child = spawn(process.execPath, [...worker.nodeFlags, worker.script], {
      env: { ...process.env, NODE_ENV: 'production', ...worker.env, ...env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    live.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => live.delete(child));
    let output = '';
    const taking = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the worker took no jobs within ${timeoutSeconds} s:\n${output.slice(-2000)}`)), timeoutSeconds * 1000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('worker taking jobs')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`the worker exited with code ${code}:\n${output.slice(-2000)}`)));
    });
    const bench = new BenchWorker(child, exited);
    await taking.catch(async (error: unknown) => {
      await bench.stop();
      throw error;
    });
    // Keeps the pipe drained: a worker blocked on a full stdout would stall its jobs.
    child.stdout!.resume();
    return bench;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 40_000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

/** `<kind>: [VAR=value …] node [flags …] <script>` from the Procfile: its environment, node flags and script. */
async function procfileLine(kind: 'web' | 'worker'): Promise<{ env: Record<string, string>; nodeFlags: string[]; script: string }> {
  const procfile = await readFile('Procfile', 'utf8').catch(() => '');
  const words = (new RegExp(`^${kind}:\\s*(.*)$`, 'm').exec(procfile)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[i]); i++) {
    const [name, ...value] = words[i].split('=');
    env[name] = value.join('=');
  }
  const nodeFlags = words.slice(i + 1).filter((w) => w.startsWith('--'));
  const script = words.slice(i + 1).find((w) => w.endsWith('.js'));
  if (!script) throw new Error(`the Procfile has no ${kind}: line that runs a script`);
  return { env, nodeFlags, script };
}

