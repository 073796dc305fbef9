import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '../../node_app/server/deploy/boot-probe.js';
import { filesUnder } from './files.js';
import { startProcessServer, type ProcessServer } from './process-server.js';
import { waitForStart } from './processes.js';

export interface WorkerProcess extends RunningServer {
  pid: number;
  dataDir: string;
  /** Files on the worker's local disk, relative to its data dir. */
  localFiles(): Promise<string[]>;
  /** SIGTERM (or `signal`), then the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** A distributed mode's web process (`web:` line), from the source, against the given Redis and bucket. */
export function startWeb(backing: Record<string, string>, env: Record<string, string> = {}): Promise<ProcessServer> {
  // As on a dyno behind Heroku's router: the tests tell clients apart by X-Forwarded-For.
  return startProcessServer({ TRUST_PROXY: '1', ...backing, ...env });
}

/** A `worker:` process from the source; resolves once it takes jobs. */
export async function startWorker(backing: Record<string, string>, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const root = path.resolve(import.meta.dirname, '../..');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-worker-'));
  const worker = startServer('exec node --import tsx node_app/server/worker-main.ts', root, {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    WORKERS: '1',
    ...backing,
    ...env,
  });
  const taking = async () => worker.output.some((line) => line.includes('worker taking jobs'));
  try {
    await waitForStart(worker.child, worker.output, taking, 'the worker');
  } catch (error) {
    worker.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`${error instanceof Error ? error.message : String(error)}:\n${worker.output.slice(-10).join('\n')}`);
  }
  return {
    ...worker,
    pid: worker.child.pid!,
    dataDir,
    async localFiles() {
      // Once the worker has stopped its folder is gone, and it holds nothing; a job folder going mid-walk is retried.
      return existsSync(dataDir) ? filesUnder(dataDir) : [];
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill(signal);
      const timer = setTimeout(() => worker.child.kill('SIGKILL'), 40_000);
      const exit = await worker.exited;
      clearTimeout(timer);
      await rm(dataDir, { recursive: true, force: true });
      return exit;
    },
  };
}
