import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeClip } from '../helpers/audio.js';
import { statusKb } from '../helpers/memory.js';

/**
 * Overload on 127.0.0.1: 8 × the server's capacity (workers + queue) of clients post songs in parallel for
 * `--seconds` (60 by default), while a probe times /healthz. Passes when nothing crashed, no 5xx but 503 came
 * back, every accepted job gave a whole WAV, /healthz stayed fast, and no file is left once the jobs are deleted.
 */
const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 60;
const factor = Number(process.env.LOAD_FACTOR ?? 8);
const healthBudgetMs = Number(process.env.HEALTHZ_BUDGET_MS ?? 200);

const child = fork('test/load/serve.ts', [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
let crashed = false;
child.on('exit', (code, signal) => {
  if (!stopping) {
    crashed = true;
    console.error(`server exited during the load test: code ${code}, signal ${signal}`);
  }
});
let stopping = false;

const info = await new Promise<{ port: number; workers: number; maxQueue: number }>((resolve, reject) => {
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const line = buffered.split('\n').find((l) => l.startsWith('{"port"'));
    if (line) resolve(JSON.parse(line));
  });
  child.once('exit', () => reject(new Error('server did not start')));
});
const base = `http://127.0.0.1:${info.port}`;
const capacity = info.workers + info.maxQueue;
const clients = factor * capacity;

const clipSeconds = 1;
const clip = await readFile(await makeClip({ seconds: clipSeconds, sampleRate: 22050, channels: 1, extension: 'wav' }));
const expectedDataBytes = clipSeconds * 22050 * 2;

/** Bytes in a WAV's data chunk, walking its chunks (a result carries its credits in a LIST chunk too); -1 if none. */
function wavDataBytes(wav: Buffer): number {
  if (wav.length < 12 || wav.toString('latin1', 0, 4) !== 'RIFF' || wav.toString('latin1', 8, 12) !== 'WAVE') return -1;
  for (let at = 12; at + 8 <= wav.length; at += 8 + wav.readUInt32LE(at + 4) + (wav.readUInt32LE(at + 4) % 2)) {
    if (wav.toString('latin1', at, at + 4) === 'data') return Math.min(wav.readUInt32LE(at + 4), wav.length - at - 8);
  }
  return -1;
}

const counts = { requests: 0, accepted: 0, busy: 0, busyWithoutRetryAfter: 0, otherStatus: 0, brokenResults: 0, networkErrors: 0 };
const others: Record<string, number> = {};
const jobIds: string[] = [];
const health: number[] = [];
const slow: Array<{ atSecond: number; ms: number }> = [];
const startedAt = Date.now();
const deadline = startedAt + seconds * 1000;

async function client(n: number): Promise<void> {
  while (Date.now() < deadline && !crashed) {
    const form = new FormData();
    form.append('audio', new Blob([clip], { type: 'audio/wav' }), `load-${n}.wav`);
    form.append('seed', String(n));
    counts.requests++;
    try {
      const res = await fetch(`${base}/api/enrich`, { method: 'POST', body: form });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status === 200) {
        counts.accepted++;
        jobIds.push(res.headers.get('x-job-id') ?? '');
        if (wavDataBytes(body) !== expectedDataBytes) counts.brokenResults++;
      } else if (res.status === 503) {
        counts.busy++;
        if (!res.headers.get('retry-after')) counts.busyWithoutRetryAfter++;
        // A real client would wait Retry-After; a load test retries soon to keep the queue full.
        await sleep(100 + Math.random() * 200);
      } else {
        counts.otherStatus++;
        others[res.status] = (others[res.status] ?? 0) + 1;
      }
    } catch {
      counts.networkErrors++;
    }
  }
}

async function probeHealth(): Promise<void> {
  while (Date.now() < deadline && !crashed) {
    const started = performance.now();
    try {
      const res = await fetch(`${base}/healthz`);
      await res.arrayBuffer();
      const ms = performance.now() - started;
      health.push(res.status === 200 ? ms : Number.POSITIVE_INFINITY);
      if (ms > healthBudgetMs) slow.push({ atSecond: round((Date.now() - startedAt) / 1000), ms: round(ms) });
    } catch {
      health.push(Number.POSITIVE_INFINITY);
    }
    await sleep(50);
  }
}

await Promise.all([probeHealth(), ...Array.from({ length: clients }, (_, n) => client(n))]);
const elapsed = (Date.now() - startedAt) / 1000;

// Peak resident memory of the server process, worker threads included.
const peakRssMb = (await statusKb(child.pid!, 'VmHWM').catch(() => 0)) / 1024;

// A one-shot answer is the whole result: the server forgets the job and its files once it is sent.
let keptAfterAnswer = 0;
for (const id of jobIds) {
  const res = await fetch(`${base}/api/jobs/${id}`).catch(() => null);
  if (res?.status !== 404) keptAfterAnswer++;
}
const filesLeft = await new Promise<string[]>((resolve) => {
  child.once('message', (message: { files: string[] }) => resolve(message.files));
  child.send('files');
});
stopping = true;
child.kill('SIGTERM');

health.sort((a, b) => a - b);
const percentile = (p: number) => health[Math.min(health.length - 1, Math.floor((p / 100) * health.length))];
const summary = {
  seconds: Math.round(elapsed),
  workers: info.workers,
  capacity,
  clients,
  ...counts,
  others,
  keptAfterAnswer,
  healthz: { probes: health.length, p50Ms: round(percentile(50)), p99Ms: round(percentile(99)), maxMs: round(health.at(-1) ?? 0), overBudget: slow.length, firstOverBudget: slow.slice(0, 5) },
  peakRssMb: round(peakRssMb),
  filesLeft: filesLeft.length,
};
console.log(JSON.stringify(summary, null, 2));

const problems = [
  crashed && 'the server crashed',
  counts.otherStatus > 0 && `answers other than 200/503: ${JSON.stringify(others)}`,
  counts.networkErrors > 0 && `${counts.networkErrors} requests failed on the network`,
  counts.busyWithoutRetryAfter > 0 && '503 without Retry-After',
  counts.brokenResults > 0 && `${counts.brokenResults} accepted jobs gave a broken result`,
  counts.accepted === 0 && 'no job was accepted',
  keptAfterAnswer > 0 && `${keptAfterAnswer} answered one-shot jobs were still kept afterwards`,
  summary.healthz.p99Ms > healthBudgetMs && `/healthz p99 ${summary.healthz.p99Ms} ms is over ${healthBudgetMs} ms`,
  filesLeft.length > 0 && `files left in the data dir: ${filesLeft.slice(0, 5).join(', ')}`,
].filter(Boolean);
if (problems.length > 0) {
  console.error(`load test FAILED:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('load test passed');

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
