import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../node_app/contract/index.js';
import { ObjectStore } from '../node_app/server/adapters/storage/object-store.js';
import { loadConfig } from '../node_app/server/config.js';
import { fixtureDir, makeClip, readWavBytes } from './helpers/audio.js';
import { ebur128 } from './helpers/ebur128.js';
import { startBackingServices, type BackingServices } from './helpers/backing-services.js';
import { startWeb, startWorker, type WorkerProcess } from './helpers/fleet.js';
import type { ProcessServer } from './helpers/process-server.js';
import { START_LIMIT_MS } from './helpers/processes.js';
import { startTestServer } from './helpers/server.js';

// Distributed mode with its real parts: redis-server, an S3-compatible server, two web and two worker
// processes. Heroku's router sends each request to any web dyno, so every check crosses processes.
describe('distributed mode: two web and two worker processes on one queue and one bucket', () => {
  let backing: BackingServices;
  let store: ObjectStore;
  let webs: ProcessServer[] = [];
  let workers: WorkerProcess[] = [];
  let shortClip: Buffer;
  let longClip: Buffer;
  let veryLongClip: Buffer;
  /** The embedded mode's answer for the long clip, seed 11: every distributed run must give these bytes. */
  let reference: Buffer;

  const web = { a: () => webs[0], b: () => webs[1] };
  // Each request comes from its own address, so the shared rate limit only meets the test written for it.
  let client = 0;
  const from = () => `203.0.113.${(client++ % 250) + 1}`;

  async function submit(server: ProcessServer, clip: Buffer, fields: Record<string, string> = {}): Promise<Response> {
    const form = new FormData();
    form.append('audio', new Blob([new Uint8Array(clip)]), 'song.wav');
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    return fetch(`${server.base}/api/jobs`, { method: 'POST', body: form, headers: { 'X-Forwarded-For': from() } });
  }

  async function job(server: ProcessServer, id: string): Promise<JobView> {
    return (await (await fetch(`${server.base}/api/jobs/${id}`)).json()) as JobView;
  }

  async function until(server: ProcessServer, id: string, done: (job: JobView) => boolean, timeoutMs = 60_000): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await job(server, id);
      if (done(current)) return current;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${JSON.stringify(current)}`);
      await sleep(100);
    }
  }

  async function download(server: ProcessServer, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
    const res = await fetch(`${server.base}${path}`, { headers });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  async function objectsOf(id: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of store.list(`jobs/${id}/`)) keys.push(object.key);
    return keys;
  }

  /** Which worker holds a job right now: the one with the job's files on its disk. */
  async function busyWorker(): Promise<WorkerProcess> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      for (const worker of workers) if ((await worker.localFiles()).some((f) => f.endsWith('result.wav'))) return worker;
      if (Date.now() > deadline) throw new Error('no worker is writing a result');
      await sleep(20);
    }
  }

  // A short lock, so a killed worker's job is taken up again within seconds instead of Heroku's 30; a short
  // grace, so a worker stopped mid-song cannot finish it first (the long clip takes well over a second).
  const workerEnv = { JOB_LOCK_S: '2', SHUTDOWN_GRACE_S: '0.25' };
  const finishedBy = (worker: WorkerProcess, id: string) => worker.output.some((line) => line.includes('"msg":"job done"') && line.includes(id));

  beforeAll(async () => {
    shortClip = await readFile(await makeClip({ seconds: 4, sampleRate: 44100, channels: 2, extension: 'wav' }));
    // Long enough to be caught mid-job (a few seconds of work) on an idle machine, with model v4 too.
    longClip = await readFile(await makeClip({ seconds: 360, sampleRate: 44100, channels: 1, extension: 'wav' }));
    // Songs that keep both workers busy while more are queued behind them.
    veryLongClip = await readFile(await makeClip({ seconds: 240, sampleRate: 44100, channels: 1, extension: 'wav' }));
    const embedded = await startTestServer();
    try {
      const res = await request(embedded.app).post('/api/enrich').attach('audio', longClip, 'song.wav').field('seed', '11').field('style', 'rain').buffer(true);
      expect(res.status).toBe(200);
      reference = res.body as Buffer;
    } finally {
      await embedded.close();
    }

    backing = await startBackingServices();
    store = new ObjectStore(loadConfig({ ...backing.env }).objectStore!);
    const common = { MAX_QUEUE: '2', RATE_LIMIT_PER_MIN: '6', LOG_LEVEL: 'warn' };
    // Workers first: a web process is ready only once a worker is connected to take its jobs.
    workers = await Promise.all([startWorker(backing.env, workerEnv), startWorker(backing.env, workerEnv)]);
    webs = await Promise.all([startWeb(backing.env, common), startWeb(backing.env, common)]);
  }, 2 * START_LIMIT_MS + 180_000);

  afterAll(async () => {
    await Promise.all([...webs.map((w) => w.stop()), ...workers.map((w) => w.stop('SIGKILL'))]);
    store?.close();
    await backing?.close();
  });

  it('reports Redis and object storage in /readyz', async () => {
    const ready = (await (await fetch(`${web.a().base}/readyz`)).json()) as { status: string; checks: Record<string, string> };
    expect(ready).toMatchObject({ status: 'ready', checks: { redis: 'ok', objectStorage: 'ok', models: 'ok' } });
  });

  it('a job sent to one web process is followed over SSE, downloaded and deleted through the other', async () => {
    const accepted = await submit(web.a(), shortClip, { seed: '5', style: 'rain', format: 'mp3' });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as JobView;

    const events = await fetch(`${web.b().base}/api/jobs/${id}/events`);
    const seen = (await events.text())
      .split('\n\n')
      .filter((block) => block.startsWith('event: job'))
      .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as JobView);
    // The current state first, then live changes, ending with the result.
    expect(['queued', 'running', 'done']).toContain(seen[0].status);
    expect(seen.at(-1)).toMatchObject({ status: 'done', progress: 1 });
    // The worker encodes the mp3 and the original's listening copy once the job is done; a web process asked for
    // one waits for the worker's file.
    const mp3 = await download(web.b(), `/api/jobs/${id}/result`);
    expect((await download(web.a(), `/api/jobs/${id}/original`)).status).toBe(200);
    expect(mp3.status).toBe(200);
    expect(mp3.headers.get('content-type')).toBe('audio/mpeg');
    expect(mp3.body.subarray(0, 3).toString('latin1') === 'ID3' || (mp3.body[0] === 0xff && (mp3.body[1] & 0xe0) === 0xe0)).toBe(true);

    const wav = await download(web.a(), `/api/jobs/${id}/result?format=wav`);
    const range = await download(web.b(), `/api/jobs/${id}/result?format=wav`, { Range: 'bytes=0-43' });
    expect(range.status).toBe(206);
    expect(range.body.equals(wav.body.subarray(0, 44))).toBe(true);
    const input = await download(web.b(), `/api/jobs/${id}/input`);
    expect(input.body.equals(shortClip)).toBe(true);
    expect((await objectsOf(id)).sort()).toEqual([`jobs/${id}/input`, `jobs/${id}/original.mp3`, `jobs/${id}/peaks.json`, `jobs/${id}/result.mp3`, `jobs/${id}/result.wav`]);

    expect((await fetch(`${web.b().base}/api/jobs/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${web.a().base}/api/jobs/${id}`)).status).toBe(404);
    expect(await objectsOf(id)).toEqual([]);
  });

  it('a job with a loudness target is levelled on a worker and reported by either web process', async () => {
    const { id } = (await (await submit(web.a(), shortClip, { seed: '5', style: 'rain', loudness: '-20' })).json()) as JobView;
    const done = (await until(web.b(), id, (current) => current.status === 'done')) as JobView & { output: { loudness: { target: number; result: { integrated: number } } } };
    expect(done.output.loudness.target).toBe(-20);
    // The master, its peaks and, once the worker has made them, the listening copies are stored; the full-precision
    // copy the levelling read stays on the worker and is deleted.
    expect((await download(web.b(), `/api/jobs/${id}/original`)).status).toBe(200);
    expect((await download(web.b(), `/api/jobs/${id}/result?format=mp3`)).status).toBe(200);
    expect((await objectsOf(id)).sort()).toEqual([`jobs/${id}/input`, `jobs/${id}/original.mp3`, `jobs/${id}/peaks.json`, `jobs/${id}/result.mp3`, `jobs/${id}/result.wav`]);
    const file = path.join(await fixtureDir(), `distributed-loudness-${id}.wav`);
    await writeFile(file, (await download(web.a(), `/api/jobs/${id}/result`)).body);
    const measured = await ebur128(file);
    expect(Math.abs(measured.integrated + 20)).toBeLessThanOrEqual(1);
    expect(measured.truePeak).toBeLessThanOrEqual(-1);
    expect(Math.abs(done.output.loudness.result.integrated - measured.integrated)).toBeLessThanOrEqual(0.3);
    for (const worker of workers) expect((await worker.localFiles()).filter((f) => f.includes(id))).toEqual([]);
  });

  it('a job with an intensity curve is shaped on a worker by the song\'s clock, and its recipe keeps the curve', async () => {
    const { id } = (await (await submit(web.a(), shortClip, { seed: '5', style: 'rain', amount: '0.4', intensity: '0:0,2:0,2.2:1' })).json()) as JobView;
    await until(web.b(), id, (current) => current.status === 'done');
    const input = readWavBytes(shortClip);
    const result = readWavBytes((await download(web.a(), `/api/jobs/${id}/result?format=wav`)).body);
    const changed = (from: number, to: number) => result.samples.some((channel, c) => channel.subarray(from, to).some((v, i) => Math.abs(v - input.samples[c][from + i]) > 1));
    expect(changed(0, 2 * 44100)).toBe(false);
    expect(changed(3 * 44100, 4 * 44100)).toBe(true);
    const recipe = (await (await fetch(`${web.b().base}/api/jobs/${id}/recipe`)).json()) as { intensity: string };
    expect(recipe.intensity).toBe('0:0,2:0,2.2:1');
  });

  it('the one-shot POST /api/enrich answers with the same bytes as the embedded mode, and keeps nothing', async () => {
    const form = new FormData();
    form.append('audio', new Blob([new Uint8Array(longClip)]), 'song.wav');
    form.append('seed', '11');
    form.append('style', 'rain');
    const res = await fetch(`${web.b().base}/api/enrich`, { method: 'POST', body: form, headers: { 'X-Forwarded-For': from() } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(reference)).toBe(true);
    const id = res.headers.get('x-job-id')!;
    await sleep(200);
    expect(await objectsOf(id)).toEqual([]);
    expect((await fetch(`${web.a().base}/api/jobs/${id}`)).status).toBe(404);
  });

  it('a worker killed mid-job (SIGKILL): another worker runs the job again, to the same bytes', async () => {
    const { id } = (await (await submit(web.a(), longClip, { seed: '11', style: 'rain' })).json()) as JobView;
    const victim = await busyWorker();
    await victim.stop('SIGKILL');
    workers = workers.filter((w) => w !== victim);

    const done = await until(web.b(), id, (j) => j.status === 'done' || j.status === 'failed');
    expect(done.status).toBe('done');
    expect(finishedBy(workers[0], id)).toBe(true);
    expect((await download(web.a(), `/api/jobs/${id}/result`)).body.equals(reference)).toBe(true);
    // Its listening copies are made on that worker once it is done (a request waits for them); then it keeps nothing.
    expect((await download(web.a(), `/api/jobs/${id}/original`)).status).toBe(200);
    const deadline = Date.now() + 30_000;
    while ((await workers[0].localFiles()).length > 0 && Date.now() < deadline) await sleep(100);
    expect(await workers[0].localFiles()).toEqual([]);
    workers.push(await startWorker(backing.env, workerEnv));
  }, START_LIMIT_MS + 60_000);

  it('a worker stopped mid-job (SIGTERM) exits within its grace and hands the job back; it completes elsewhere', async () => {
    const { id } = (await (await submit(web.b(), longClip, { seed: '11', style: 'rain' })).json()) as JobView;
    const leaving = await busyWorker();
    const signalled = Date.now();
    const exit = await leaving.stop('SIGTERM');
    workers = workers.filter((w) => w !== leaving);
    expect(exit.code).toBe(0);
    // SHUTDOWN_GRACE_S=0.25, and Heroku's SIGKILL comes 30 s after its SIGTERM.
    expect(exit.at - signalled).toBeLessThan(5_000);
    expect(leaving.output.some((line) => line.includes('"msg":"bye"'))).toBe(true);

    const done = await until(web.a(), id, (j) => j.status === 'done' || j.status === 'failed');
    expect(done.status).toBe('done');
    // A quarter second of grace is too short for this song: the job went back to the queue and the other worker ran it.
    expect(finishedBy(leaving, id)).toBe(false);
    expect(finishedBy(workers[0], id)).toBe(true);
    expect((await download(web.b(), `/api/jobs/${id}/result`)).body.equals(reference)).toBe(true);
    workers.push(await startWorker(backing.env, workerEnv));
  }, START_LIMIT_MS + 60_000);

  it('a web process stopped (SIGTERM) right after accepting a job loses nothing: the job completes and is served by the other', async () => {
    const leaving = web.a();
    const { id } = (await (await submit(leaving, longClip, { seed: '11', style: 'rain' })).json()) as JobView;
    await leaving.stop();
    webs = [webs[1], await startWeb(backing.env, { MAX_QUEUE: '2', RATE_LIMIT_PER_MIN: '6', LOG_LEVEL: 'warn' })];

    const done = await until(web.b(), id, (j) => j.status === 'done' || j.status === 'failed');
    expect(done.status).toBe('done');
    expect((await download(web.a(), `/api/jobs/${id}/result`)).body.equals(reference)).toBe(true);
  }, START_LIMIT_MS + 60_000);

  it('a full queue answers 503 BUSY with Retry-After, from any web process; deleted jobs leave nothing', async () => {
    // Two workers take two songs, two more wait (MAX_QUEUE=2); the next is refused.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await submit(i % 2 ? web.a() : web.b(), veryLongClip);
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as JobView).id);
      if (i === 1) await Promise.all(ids.map((id) => until(web.a(), id, (j) => j.status === 'running')));
    }
    const refused = await submit(web.a(), shortClip);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('BUSY');
    // The two waiting know their place in Redis's line, from either web process.
    const places = await Promise.all(ids.slice(2).map(async (id) => ((await (await fetch(`${web.b().base}/api/jobs/${id}`)).json()) as JobView).ahead));
    expect(places).toEqual([0, 1]);

    for (const id of ids) expect((await fetch(`${web.b().base}/api/jobs/${id}`, { method: 'DELETE' })).status).toBe(204);
    // Running ones are stopped by their workers, which delete what they wrote.
    const deadline = Date.now() + 20_000;
    while ((await Promise.all(ids.map(objectsOf))).flat().length > 0 || (await Promise.all(workers.map((w) => w.localFiles()))).flat().length > 0) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(200);
    }
    for (const id of ids) expect((await fetch(`${web.a().base}/api/jobs/${id}`)).status).toBe(404);
  });

  it('a failed job leaves its error record and no objects', async () => {
    const { id } = (await (await submit(web.a(), Buffer.from('this is not audio at all, just text'))).json()) as JobView;
    const failed = await until(web.b(), id, (j) => j.status === 'failed');
    expect(failed.error?.code).toBe('NOT_AUDIO');
    expect(await objectsOf(id)).toEqual([]);
  });

  it('an id that is not a job id is 404, even one that names a key BullMQ keeps beside the jobs', async () => {
    // A job through the queue, so that BullMQ's own keys are there.
    const { id } = (await (await submit(web.a(), Buffer.from('not audio'))).json()) as JobView;
    await until(web.b(), id, (j) => j.status === 'failed');
    const redis = new Redis(backing.redisUrl);
    try {
      const own = ['meta', 'events'];
      for (const name of own) expect(await redis.exists(`bull:enrich:${name}`), name).toBe(1);
      for (const name of [...own, 'x'.repeat(300)]) {
        for (const res of [await fetch(`${web.a().base}/api/jobs/${name}`), await fetch(`${web.b().base}/api/jobs/${name}`, { method: 'DELETE' })]) {
          expect([name, res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([name, 404, 'JOB_NOT_FOUND']);
        }
      }
      for (const name of own) expect(await redis.exists(`bull:enrich:${name}`), name).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  it('the per-address rate limit is shared by the web processes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      // Only work taken on counts; a file that is decoded and found not to be audio was work.
      const form = new FormData();
      form.append('audio', new Blob(['not a song, but it has to be read to know']), 'notes.mp3');
      const res = await fetch(`${webs[i % 2].base}/api/enrich`, { method: 'POST', body: form, headers: { 'X-Forwarded-For': '198.51.100.9' } });
      statuses.push(res.status);
    }
    // Six a minute: three through each process would pass two separate limits, not one shared one.
    expect(statuses.slice(0, 6).every((s) => s === 415)).toBe(true);
    expect(statuses[6]).toBe(429);
  });

  it('results expire after RESULT_TTL_MIN: the sweeper deletes the job and its objects', async () => {
    const shortLived = await startWeb(backing.env, { RESULT_TTL_MIN: '0.05', LOG_LEVEL: 'warn' });
    try {
      const { id } = (await (await submit(shortLived, shortClip)).json()) as JobView;
      await until(web.a(), id, (j) => j.status === 'done');
      expect((await objectsOf(id)).length).toBeGreaterThan(0);
      const redis = new Redis(backing.redisUrl);
      try {
        // The sweeper deletes the objects, then the queue's record: both must go.
        const deadline = Date.now() + 15_000;
        while ((await objectsOf(id)).length > 0 || (await redis.exists(`bull:enrich:${id}`)) > 0) {
          expect(Date.now()).toBeLessThan(deadline);
          await sleep(250);
        }
      } finally {
        redis.disconnect();
      }
      expect((await fetch(`${web.b().base}/api/jobs/${id}`)).status).toBe(404);
    } finally {
      await shortLived.stop();
    }
  }, START_LIMIT_MS + 60_000);
});
