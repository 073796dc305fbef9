import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from './helpers/audio.js';
import { ffmpegChildren, START_LIMIT_MS } from './helpers/processes.js';
import { startProcessServer, type ProcessServer } from './helpers/process-server.js';
import { startTestServer } from './helpers/server.js';

/**
 * Result downloads in mp3, flac and ogg are encoded on demand. They go through a small pool (one encoder by
 * default), one encode per job and format, and every encoder is stopped with its job or its server. The
 * server runs as its own process here, so its ffmpeg children and its latency are seen from outside.
 */
const FORMATS = ['mp3', 'flac', 'ogg'] as const;
// A job stores its mp3 listening copy before it is done, so only these are encoded when first asked for.
const ON_DEMAND = ['flac', 'ogg'] as const;
const CONTENT_TYPES = { mp3: 'audio/mpeg', flac: 'audio/flac', ogg: 'audio/ogg' };

let clip: Buffer;
beforeAll(async () => {
  clip = await readFile(await makeClip({ seconds: 20, sampleRate: 44100, channels: 2, extension: 'wav' }));
});

async function doneJobs(base: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const form = new FormData();
    form.append('audio', new Blob([new Uint8Array(clip)]), 'clip.wav');
    form.append('seed', String(i + 1));
    form.append('amount', '0.3');
    const res = await fetch(`${base}/api/jobs`, { method: 'POST', body: form });
    expect(res.status).toBe(202);
    ids.push(((await res.json()) as { id: string }).id);
  }
  for (const id of ids) {
    for (;;) {
      const job = (await (await fetch(`${base}/api/jobs/${id}`)).json()) as { status: string };
      if (job.status === 'done') break;
      expect(job.status).toMatch(/queued|running/);
      await sleep(100);
    }
  }
  return ids;
}

interface Download {
  status: number;
  type: string | null;
  bytes: Buffer;
}

async function download(base: string, id: string, format: string): Promise<Download> {
  try {
    const res = await fetch(`${base}/api/jobs/${id}/result?format=${format}`);
    return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
  } catch {
    return { status: 0, type: null, bytes: Buffer.alloc(0) };
  }
}

async function untilEncoding(pid: number): Promise<number[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const encoders = await ffmpegChildren(pid);
    if (encoders.length > 0 || Date.now() > deadline) return encoders;
    await sleep(10);
  }
}

/** Watches the server from outside while `work` runs: /healthz latency every 10 ms, and its encoders every 50 ms. */
async function watch<T>(server: ProcessServer, work: () => Promise<T>) {
  const healthMs: number[] = [];
  const encoders = new Set<number>();
  let maxEncoders = 0;
  let running = true;
  const probing = (async () => {
    while (running) {
      const started = performance.now();
      await (await fetch(`${server.base}/healthz`)).arrayBuffer();
      healthMs.push(performance.now() - started);
      await sleep(10);
    }
  })();
  const counting = (async () => {
    while (running) {
      const alive = await ffmpegChildren(server.pid);
      for (const pid of alive) encoders.add(pid);
      maxEncoders = Math.max(maxEncoders, alive.length);
      await sleep(50);
    }
  })();
  try {
    return { result: await work(), healthMs, maxEncoders, encoders };
  } finally {
    running = false;
    await Promise.all([probing, counting]);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const summary = (ms: number[]) => `n=${ms.length} p50=${percentile(ms, 50).toFixed(1)} p99=${percentile(ms, 99).toFixed(1)} max=${Math.max(...ms).toFixed(1)} ms`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('result transcodes, on a server process', () => {
  let server: ProcessServer;
  beforeAll(async () => {
    server = await startProcessServer();
  }, START_LIMIT_MS + 30_000);
  afterAll(async () => {
    await server.stop();
  });

  it('12 concurrent encodes (4 jobs × 3 formats, each asked twice) run one at a time, once each, and /healthz stays fast', async () => {
    const ids = await doneJobs(server.base, 4);
    // The same machine without encodes: on a shared machine /healthz is only as fast as the machine lets it be.
    const idle = await watch(server, () => sleep(4000));
    const asks = ids.flatMap((id) => FORMATS.flatMap((format) => [{ id, format }, { id, format }]));
    const { result, healthMs, maxEncoders, encoders } = await watch(server, () => Promise.all(asks.map(({ id, format }) => download(server.base, id, format))));

    for (const [i, res] of result.entries()) {
      expect(res.status).toBe(200);
      expect(res.type).toBe(CONTENT_TYPES[asks[i].format]);
      expect(res.bytes.length).toBeGreaterThan(10_000);
    }
    // The second request for a job and format got the same encode's file.
    for (let i = 0; i < result.length; i += 2) expect(result[i].bytes.equals(result[i + 1].bytes)).toBe(true);
    expect(maxEncoders).toBe(1);
    expect(encoders.size).toBeLessThanOrEqual(12);
    console.log(`healthz idle: ${summary(idle.healthMs)}; during 12 encodes: ${summary(healthMs)}`);
    expect(percentile(healthMs, 99)).toBeLessThanOrEqual(Math.max(100, percentile(idle.healthMs, 99) + 50));
    expect(await ffmpegChildren(server.pid)).toEqual([]);
    for (const id of ids) await fetch(`${server.base}/api/jobs/${id}`, { method: 'DELETE' });
  }, 180_000);

  it('DELETE stops the job\'s encoders at once: no ffmpeg left, waiting downloads get 404, no files left', async () => {
    const ids = await doneJobs(server.base, 2);
    const downloads = ids.flatMap((id) => ON_DEMAND.map((format) => download(server.base, id, format)));
    expect(await untilEncoding(server.pid)).toHaveLength(1);

    for (const id of ids) expect((await fetch(`${server.base}/api/jobs/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await ffmpegChildren(server.pid)).toEqual([]);
    const answers = await Promise.all(downloads);
    expect(answers.map((a) => a.status)).toEqual(Array(downloads.length).fill(404));
    expect(JSON.parse(answers[0].bytes.toString('utf8')).error.code).toBe('JOB_NOT_FOUND');
  }, 120_000);
});

describe('result transcodes and the end of the server', () => {
  it('SIGTERM with encodes running and waiting: the server exits cleanly and no encoder outlives it', async () => {
    const server = await startProcessServer({ SHUTDOWN_GRACE_S: '1' });
    try {
      const ids = await doneJobs(server.base, 2);
      const downloads = ids.flatMap((id) => FORMATS.map((format) => download(server.base, id, format)));
      const encoders = await untilEncoding(server.pid);
      expect(encoders).toHaveLength(1);
      server.child.kill('SIGTERM');
      const exit = await server.exited;
      expect(exit.code).toBe(0);
      expect(encoders.filter(isAlive)).toEqual([]);
      // Each download either finished inside the grace or was told to come back; none hangs.
      for (const answer of await Promise.all(downloads)) expect([0, 200, 503]).toContain(answer.status);
    } finally {
      await server.stop();
    }
  }, START_LIMIT_MS + 120_000);

  it('a server killed outright (SIGKILL, an R14 restart) takes its encoders with it', async () => {
    const server = await startProcessServer();
    try {
      const [id] = await doneJobs(server.base, 1);
      const downloads = FORMATS.map((format) => download(server.base, id, format));
      const encoders = await untilEncoding(server.pid);
      expect(encoders).toHaveLength(1);
      server.child.kill('SIGKILL');
      await server.exited;
      const deadline = Date.now() + 3000;
      while (encoders.some(isAlive) && Date.now() < deadline) await sleep(20);
      expect(encoders.filter(isAlive)).toEqual([]);
      await Promise.all(downloads);
    } finally {
      await server.stop();
    }
  }, START_LIMIT_MS + 120_000);

  it('expiry stops a running encode like DELETE does', async () => {
    const server = await startTestServer();
    try {
      const created = await request(server.app).post('/api/jobs').attach('audio', clip, 'clip.wav');
      const id = created.body.id as string;
      await server.jobs.settled(id);
      const pending = Promise.all(
        ON_DEMAND.map((format) =>
          server.jobs.result(id, format).then(
            () => 200,
            (error: { status?: number }) => error.status,
          ),
        ),
      );
      expect(await untilEncoding(process.pid)).toHaveLength(1);
      server.advanceClock(server.config.resultTtlMs + 1);
      expect(await server.jobs.sweep()).toBe(1);
      expect(await ffmpegChildren()).toEqual([]);
      expect(await pending).toEqual([404, 404]);
      expect(await server.dataFiles()).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
