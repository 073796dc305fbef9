import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, startServer, type RunningServer } from '../../node_app/server/deploy/boot-probe.js';
import { waitForStart } from './processes.js';

export interface ProcessServer extends RunningServer {
  base: string;
  pid: number;
  dataDir: string;
  /** SIGTERM, then the exit; SIGKILL if it has not exited in `timeoutMs`. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The server as its own process, started from the source as `npm run dev` does, on 127.0.0.1: for what only a
 * whole process shows — signals, its child processes, latency measured from outside it.
 */
export async function startProcessServer(env: Record<string, string> = {}): Promise<ProcessServer> {
  const root = path.resolve(import.meta.dirname, '../..');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-process-'));
  const port = await freePort();
  const server = startServer('exec node --import tsx node_app/server/main.ts', root, {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    DATA_DIR: dataDir,
    WORKERS: '1',
    RATE_LIMIT_PER_MIN: '100000',
    ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  const ready = async () => {
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  };
  try {
    await waitForStart(server.child, server.output, ready, 'the server');
  } catch (error) {
    server.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${server.output.slice(-10).join('\n')}`);
  }
  return {
    ...server,
    base,
    pid: server.child.pid!,
    dataDir,
    async stop(timeoutMs = 40_000) {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
      const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs);
      const exit = await server.exited;
      clearTimeout(timer);
      await rm(dataDir, { recursive: true, force: true });
      return exit;
    },
  };
}
