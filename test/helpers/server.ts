import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { createAudioCodec } from '../../node_app/server/adapters/audio-codec.js';
import { resolveFfmpeg } from '../../node_app/server/adapters/ffmpeg.js';
import { FileStore } from '../../node_app/server/adapters/file-store.js';
import { createApp } from '../../node_app/server/app.js';
import { loadConfig, type Config } from '../../node_app/server/config.js';
import { createLogger } from '../../node_app/server/logger.js';
import { JobService } from '../../node_app/server/services/job-service.js';
import { ModelService } from '../../node_app/server/services/model-service.js';

export interface TestServer {
  app: Express;
  config: Config;
  jobs: JobService;
  models: ModelService;
  files: FileStore;
  /** Moves the jobs' clock forward, for expiry. */
  advanceClock(ms: number): void;
  close(): Promise<void>;
}

/** The real app — real ffmpeg, real ONNX models — over a fresh data folder, ready for supertest. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-test-'));
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, WORKERS: '1', ...env });
  const logger = createLogger(config.logLevel);
  const files = new FileStore(config.dataDir);
  await files.reset();
  let clockOffset = 0;
  const models = new ModelService(config.modelsDir, config.workers, logger);
  const jobs = new JobService({
    codec: createAudioCodec(resolveFfmpeg(config.ffmpegPath).path, config.ffmpegTimeoutMs),
    models,
    files,
    logger,
    concurrency: config.workers,
    maxQueue: config.maxQueue,
    maxDurationSeconds: config.maxDurationSeconds,
    ttlMs: config.resultTtlMs,
    now: () => new Date(Date.now() + clockOffset),
  });
  await models.start();
  return {
    app: createApp({ config, logger, files, models, jobs }),
    config,
    jobs,
    models,
    files,
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
