import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import type { FileStore } from '../../node_app/server/adapters/storage/file-store.js';
import { createApp } from '../../node_app/server/app.js';
import { createServices, type ServiceOverrides } from '../../node_app/server/compose.js';
import { loadConfig, type Config } from '../../node_app/server/config.js';
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
  return {
    app: createApp({ config, logger, files, models, jobs, batches, readiness }),
    config,
    jobs,
    models,
    files,
    async dataFiles() {
      // A folder deleted while the listing walks it (a job being removed) makes readdir fail; look again.
      for (let attempt = 0; ; attempt++) {
        try {
          const entries = await readdir(dataDir, { recursive: true, withFileTypes: true });
          return entries.filter((e) => e.isFile()).map((e) => path.relative(dataDir, path.join(e.parentPath, e.name))).sort();
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw error;
        }
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
