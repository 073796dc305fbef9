import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import type { FileStore } from '../../node_app/server/adapters/storage/file-store.js';
import { createApp } from '../../node_app/server/app.js';
import { createServices, type ServiceOverrides } from '../../node_app/server/compose.js';
import { loadConfig, type Config } from '../../node_app/server/config.js';
import { filesUnder } from './files.js';
import { createLogger } from '../../node_app/server/logger.js';
import type { JobService } from '../../node_app/server/services/job-service.js';
import type { Models } from '../../node_app/server/services/models.js';

export interface TestServer {
  app: Express;
  config: Config;
  jobs: JobService;
  models: Models;
  files: FileStore;
  /** Every file under the data dir, relative to it: uploads/<temp> and jobs/<id>/<name>. */
  dataFiles(): Promise<string[]>;
  /**
   * Waits until a done job's listening copies (result.mp3, original.mp3) are stored: they are made after the job
   * is done, so a test that compares the data folder later lets them finish first.
   */
  copiesMade(id: string): Promise<void>;
  /** Moves the jobs' clock forward, for expiry. */
  advanceClock(ms: number): void;
  close(): Promise<void>;
}

/** Fault injection: replace an adapter with one that fails the way the outside world can. */
export type TestOverrides = Omit<ServiceOverrides, 'now'>;

/** The real app — real ffmpeg, real ONNX models — over a fresh data folder, ready for supertest. */
export async function startTestServer(env: Record<string, string> = {}, overrides: TestOverrides = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-test-'));
  // Every supertest request comes from 127.0.0.1; the rate limit gets its own test.
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, WORKERS: '1', RATE_LIMIT_PER_MIN: '100000', ...env });
  const logger = createLogger(config.logLevel);
  let clockOffset = 0;
  const { files, models, jobs, batches, readiness } = await createServices(config, logger, { ...overrides, now: () => new Date(Date.now() + clockOffset) });
  await models.start();
  jobs.start();
  const dataFiles = () => filesUnder(dataDir);

  return {
    app: createApp({ config, logger, files, models, jobs, batches, readiness }),
    config,
    jobs,
    models,
    files,
    dataFiles,
    async copiesMade(id) {
      const wanted = ['result.mp3', 'original.mp3'].map((name) => path.join('jobs', id, name));
      const deadline = Date.now() + 120_000;
      for (;;) {
        const files = await dataFiles();
        if (wanted.every((file) => files.includes(file))) return;
        if (Date.now() > deadline) throw new Error(`job ${id}: its listening copies were not stored within 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    advanceClock(ms) {
      clockOffset += ms;
    },
    async close() {
      await jobs.shutdown(0);
      await models.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
