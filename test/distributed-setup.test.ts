import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../node_app/server/app.js';
import { createServices, type Services } from '../node_app/server/compose.js';
import { loadConfig } from '../node_app/server/config.js';
import { createLogger } from '../node_app/server/logger.js';
import { makeClip } from './helpers/audio.js';
import { startBackingServices, type BackingServices } from './helpers/backing-services.js';
import { startWorker } from './helpers/fleet.js';

/**
 * Distributed mode as a new user meets it while setting it up: a web process with its Redis and bucket but
 * no worker yet, then a worker that joins. What is missing must be said, not left to be guessed.
 */
describe('a distributed web process says what its setup lacks', () => {
  let backing: BackingServices;
  let dataDir: string;
  let web: Services;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    backing = await startBackingServices();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-setup-'));
    const config = loadConfig({ ...process.env, ...backing.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir });
    const logger = createLogger(config.logLevel);
    web = await createServices(config, logger);
    await web.models.start();
    web.jobs.start();
    app = createApp({ config, logger, files: web.files, models: web.models, jobs: web.jobs, batches: web.batches, readiness: web.readiness, rateLimitStore: web.rateLimitStore });
  }, 60_000);

  afterAll(async () => {
    await web?.jobs.shutdown(0);
    await web?.models.close();
    await backing?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('with no worker: /readyz is 503 and names it, a new job says why it waits; once a worker connects, both clear and the job is done', async () => {
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toMatchObject({ redis: 'ok', objectStorage: 'ok', models: 'ok' });
    expect(ready.body.message).toMatch(/^workers: no worker is connected to the queue, so jobs wait: start one \(npm run worker/);

    const clip = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    const id = (await request(app).post('/api/jobs').attach('audio', clip)).body.id as string;
    const waiting = await request(app).get(`/api/jobs/${id}`);
    expect(waiting.body).toMatchObject({ status: 'queued', notice: expect.stringMatching(/No worker is connected/) });

    const worker = await startWorker(backing.env);
    try {
      const done = await web.jobs.settled(id);
      expect(done.status).toBe('done');
      // Readiness is cached for 5 s, and the worker list for 2 s.
      await new Promise((resolve) => setTimeout(resolve, 5100));
      const now = await request(app).get('/readyz');
      expect(now.status).toBe(200);
      expect(now.body.checks.workers).toBe('ok');
    } finally {
      await worker.stop();
    }
  }, 120_000);
});
