import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { startBackingServices } from '../test/helpers/backing-services.js';

/**
 * `npm run distributed`: the distributed mode on this machine, as Heroku runs it with its add-ons. Debian's
 * redis-server and s3rver (a local S3, with the bucket made) on free ports, then the built web and worker
 * processes with the Procfile's settings, on the Node that runs this script (npm runs it on the `node`
 * package's Node 24). Their logs are interleaved, each line marked; Ctrl-C stops everything and removes
 * what it made.
 */
const root = path.resolve(import.meta.dirname, '..');
const port = process.env.PORT ?? '5000';
const backing = await startBackingServices('enricher-local');
const scratch = await mkdtemp(path.join(os.tmpdir(), 'enricher-local-'));
console.log(`redis at ${backing.redisUrl}; S3 at ${backing.env.S3_ENDPOINT}, bucket "${backing.env.S3_BUCKET}"; the app at http://localhost:${port}`);

function start(name: string, script: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--max-semi-space-size=2', script], {
    cwd: root,
    // Each process its own data dir: both empty theirs at start.
    env: { ...process.env, ...backing.env, MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', DATA_DIR: path.join(scratch, name), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) readline.createInterface({ input: stream }).on('line', (line) => console.log(`${name.padEnd(6)}| ${line}`));
  }
  return child;
}

const children = [start('worker', 'dist/server/worker-main.js'), start('web', 'dist/server/main.js', { PORT: port })];
let stopping = false;

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const exits = children.filter((child) => child.exitCode === null && child.signalCode === null).map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(exits);
  await backing.close();
  await rm(scratch, { recursive: true, force: true });
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
for (const child of children) {
  // One process gone means the set no longer works: say so and stop the rest.
  child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`a process exited (${signal ?? `code ${code}`}); stopping the others`);
    void stop(1);
  });
}
