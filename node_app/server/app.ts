import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { Store } from 'express-rate-limit';
import { pinoHttp } from 'pino-http';
import { API_PATHS, BATCH_FILES } from '../contract/index.js';
import type { Config } from './config.js';
import { errorHandler } from './error-handler.js';
import type { Logger } from './logger.js';
import { batchRoutes } from './routes/batches.js';
import { enrichRoutes } from './routes/enrich.js';
import { jobRoutes } from './routes/jobs.js';
import { metaRoutes } from './routes/meta.js';
import { unmatchedRequest } from './routes/method-not-allowed.js';
import { openApiRoutes } from './routes/openapi.js';
import { workRateLimit } from './routes/rate-limit.js';
import type { FileStore } from './adapters/storage/file-store.js';
import type { BatchService } from './services/batch-service.js';
import type { JobService } from './services/job-service.js';
import type { Models } from './services/models.js';
import type { Readiness } from './services/readiness.js';
import { modelFiles } from './model-files.js';
import { contentSecurityPolicy, webAssets } from './web-assets.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  files: FileStore;
  models: Models;
  jobs: JobService;
  batches: BatchService;
  readiness: Readiness;
  /** Where the rate limit counts, shared by every web process in distributed mode; this process's memory if unset. */
  rateLimitStore?: Store;
}

/** Builds the Express app without listening, so tests drive it with supertest. */
export function createApp({ config, logger, files, models, jobs, batches, readiness, rateLimitStore }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // req.ip (the rate limit's key) and req.secure come from X-Forwarded-* only through the proxies configured.
  app.set('trust proxy', config.trustProxy);

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      // A client's mistake is worth a line, not an error with a stack.
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }),
  );
  app.use(contentSecurityPolicy());
  app.use(express.json({ limit: '16kb' }));

  const limits = {
    dir: files.uploadsDir,
    ensureDir: () => files.ensureFolders(),
    maxBytes: config.maxUploadBytes,
    idleTimeoutMs: config.uploadIdleTimeoutMs,
    totalTimeoutMs: config.uploadTimeoutMs,
    freeBytes: () => files.freeBytes(),
    minFreeBytes: config.minFreeDiskBytes,
  };
  const routers = [
    metaRoutes(models, readiness, {
      maxUploadBytes: config.maxUploadBytes,
      maxDurationSeconds: config.maxDurationSeconds,
      maxBatchBytes: config.maxBatchBytes,
      maxBatchFiles: BATCH_FILES.max,
    }),
    enrichRoutes(jobs, limits),
    jobRoutes(jobs, limits),
    batchRoutes(batches, limits, { minFiles: BATCH_FILES.min, maxFiles: BATCH_FILES.max, maxTotalBytes: config.maxBatchBytes }, logger),
    openApiRoutes(),
  ];
  app.post([API_PATHS.enrich, API_PATHS.jobs, API_PATHS.batches], workRateLimit(config.rateLimitPerMinute, rateLimitStore));
  for (const router of routers) app.use(router);
  const unmatched = unmatchedRequest(routers);
  app.use('/api', unmatched);

  app.use(modelFiles(config.modelsDir));
  const web = webAssets(config.webDir);
  if (web) app.use(web);
  app.use(unmatched);
  app.use(errorHandler);
  return app;
}
