import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Starts the app the way Heroku does and watches it from outside: used by app.json's postdeploy check on a
 * one-off dyno and by `npm run slug:check` on a local copy of the slug. It only speaks HTTP and signals, so it
 * checks the built artefact, not the source.
 */

export interface RunningServer {
  child: ChildProcess;
  startedAt: number;
  /** Everything the process printed so far (pino's JSON lines). */
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** The `web:` command of a Procfile, which Heroku runs with a shell. */
export function webCommand(procfile: string): string {
  const line = readFileSync(procfile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('web:'));
  if (!line) throw new Error(`${procfile} has no web: process`);
  return line.slice('web:'.length).trim();
}

/** A port nobody listens on right now, like the random $PORT a dyno gets. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function startServer(command: string, cwd: string, env: NodeJS.ProcessEnv): RunningServer {
  const startedAt = Date.now();
  const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, startedAt, output, exited };
}

/** Polls `url` until it answers `status`; returns the milliseconds since the server was started. */
export async function waitForStatus(server: RunningServer, url: string, status: number, timeoutMs: number): Promise<number> {
  const deadline = server.startedAt + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`the server exited (${server.child.exitCode}) before ${url} answered ${status}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      last = String(response.status);
      await response.arrayBuffer();
      if (response.status === status) return Date.now() - server.startedAt;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}
