import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchView } from '../node_app/contract/index.js';
import { createApp } from '../node_app/server/app.js';
import { ObjectStore } from '../node_app/server/adapters/storage/object-store.js';
import { createServices, type Services } from '../node_app/server/compose.js';
import { loadConfig } from '../node_app/server/config.js';
import { createLogger } from '../node_app/server/logger.js';
import { binaryParser, makeClip, readWavBytes } from './helpers/audio.js';
import { startBackingServices, type BackingServices } from './helpers/backing-services.js';
import { startWorker, type WorkerProcess } from './helpers/fleet.js';
import { START_LIMIT_MS } from './helpers/processes.js';
import { openZip } from './helpers/zip.js';

/**
 * Album mode in the distributed mode with its real parts: redis-server, an S3 server, a worker process that
 * runs the songs, and two web processes' services (here, in this process, each with its own data folder) that
 * share nothing else: the album is accepted by one and followed, downloaded and deleted through the other.
 */
describe('album mode, distributed: BullMQ on redis-server, results in S3, a worker process', () => {
  let backing: BackingServices;
  let worker: WorkerProcess;
  let store: ObjectStore;
  const webs: Array<{ services: Services; app: ReturnType<typeof createApp>; dataDir: string }> = [];

  beforeAll(async () => {
    backing = await startBackingServices();
    store = new ObjectStore(loadConfig({ ...backing.env }).objectStore!);
    for (let i = 0; i < 2; i++) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-album-web-'));
      const config = loadConfig({ ...process.env, ...backing.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, RATE_LIMIT_PER_MIN: '1000' });
      const logger = createLogger(config.logLevel);
      const services = await createServices(config, logger);
      await services.models.start();
      services.jobs.start();
      webs.push({ services, dataDir, app: createApp({ config, logger, ...services }) });
    }
    worker = await startWorker(backing.env);
  }, START_LIMIT_MS + 180_000);

  afterAll(async () => {
    await worker?.stop();
    for (const { services, dataDir } of webs) {
      await services.jobs.shutdown(0);
      await services.models.close();
      await rm(dataDir, { recursive: true, force: true });
    }
    store?.close();
    await backing?.close();
  });

  async function bucketKeys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of store.list('jobs/')) keys.push(object.key);
    return keys;
  }

  it('accepted by one web process, levelled, followed, downloaded as a zip and deleted through the other; the bucket is left empty', async () => {
    const [a, b] = webs;
    const clip = await makeClip({ seconds: 2, sampleRate: 22050, channels: 2, extension: 'wav' });
    const created = await request(a.app).post('/api/batches').attach('audio', clip, 'Side A.wav').attach('audio', clip, 'Side B.wav').field({ style: 'rain', seed: '21', loudness: '-20' });
    expect(created.status).toBe(202);
    const { id, jobs } = created.body as BatchView;
    expect(jobs.map((job) => job.name)).toEqual(['Side A.wav', 'Side B.wav']);
    // The album's record is in the bucket, with its first job.
    expect(await bucketKeys()).toContain(`jobs/${id}/batch.json`);

    for (const job of jobs) expect((await b.services.jobs.settled(job.id)).status).toBe('done');
    // Every song done: the album is measured for its one gain by the web process that is asked, its record rewritten in the bucket.
    let view = (await request(b.app).get(`/api/batches/${id}`)).body as BatchView;
    for (let tries = 0; view.status !== 'done' && tries < 120; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      view = (await request(b.app).get(`/api/batches/${id}`)).body as BatchView;
    }
    expect(view).toMatchObject({ id, status: 'done', progress: 1, params: { seed: 21, style: 'rain', loudness: -20 }, loudness: { target: -20 } });
    expect(Math.abs(view.loudness!.after.integrated! - -20)).toBeLessThanOrEqual(0.5);
    expect((await request(a.app).get(`/api/batches/${id}`)).body.loudness).toEqual(view.loudness);

    const res = await request(b.app).get(`/api/batches/${id}/download`).buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    const zip = await openZip(res.body as Buffer);
    expect(zip.unzipTest).toContain('No errors detected');
    expect(zip.entries.map((entry) => entry.name)).toEqual(['recipe.json', 'CREDITS.txt', 'Side A.rain.enriched.wav', 'Side B.rain.enriched.wav']);
    expect(JSON.parse(zip.entries[0].data.toString('utf8'))).toMatchObject({ album: id, seed: 21, songs: [{ input: 'Side A.wav' }, { input: 'Side B.wav' }] });
    expect(zip.entries[1].data.toString('utf8')).toContain('style rain, amount 0.5, seed 21');
    const [sideA, sideB] = zip.entries.slice(2).map((entry) => readWavBytes(entry.data));
    expect([sideA.sampleRate, sideA.channels, sideA.frames]).toEqual([22050, 2, 2 * 22050]);
    // Same file, same fields, same seed: the same samples (the tags name each song's own file).
    expect(sideB.samples).toEqual(sideA.samples);
    expect(zip.entries[2].data.includes('Side A (enriched: rain)')).toBe(true);
    // The zip holds the songs levelled for the album, kept in the bucket beside each song's result as made.
    const keys = await bucketKeys();
    for (const job of jobs) expect(keys).toEqual(expect.arrayContaining([`jobs/${job.id}/album.wav`, `jobs/${job.id}/result.wav`]));
    expect(zip.entries[2].data.equals((await request(a.app).get(`/api/jobs/${jobs[0].id}/result`).buffer(true).parse(binaryParser)).body as Buffer)).toBe(false);

    expect((await request(a.app).delete(`/api/batches/${id}`)).status).toBe(204);
    expect((await request(b.app).get(`/api/batches/${id}`)).status).toBe(404);
    for (const job of jobs) expect((await request(b.app).get(`/api/jobs/${job.id}`)).status).toBe(404);
    expect(await bucketKeys()).toEqual([]);
  });

  it('a refused album leaves nothing in the bucket or the queue', async () => {
    const [a] = webs;
    const clip = await makeClip({ seconds: 0.3, sampleRate: 8000, channels: 1, extension: 'wav' });
    const res = await request(a.app).post('/api/batches').attach('audio', clip, 'good.wav').attach('audio', Buffer.alloc(0), 'empty.wav');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^"empty\.wav": /);
    expect(await bucketKeys()).toEqual([]);
    expect(await a.services.jobs.activeCount).toBe(0);
  });
});
