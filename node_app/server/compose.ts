import { createAudioCodec, type AudioCodec } from './adapters/media/audio-codec.js';
import { resolveFfmpeg, type FfmpegBinary } from './adapters/media/ffmpeg.js';
import { FileStore } from './adapters/storage/file-store.js';
import { EnrichQueue, EnrichWorker } from './adapters/queue/bullmq-queue.js';
import { ObjectStore } from './adapters/storage/object-store.js';
import { redisClient } from './adapters/queue/redis.js';
import type { DistributedConfig } from './config-distributed.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { DistributedJobs } from './services/distributed-jobs.js';
import type { JobQueue } from './services/job-queue.js';
import { JobService } from './services/job-service.js';
import { ModelService } from './services/model-service.js';
import type { Models } from './services/models.js';
import type { EnrichOutcome, QueuedEnrich } from './services/queued-job.js';
import { QueuedJobRunner } from './services/queued-job-runner.js';
import { Readiness } from './services/readiness.js';
import type { Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';

export interface Services {
  ffmpeg: FfmpegBinary;
  files: FileStore;
  models: Models;
  jobs: JobService;
  readiness: Readiness;
  codec: AudioCodec;
}

/** Seams for tests: fault injection in the adapters, models that need no ONNX Runtime, a movable clock. */
export interface ServiceOverrides {
  files?: (dataDir: string) => FileStore;
  codec?: (real: AudioCodec) => AudioCodec;
  models?: () => Models;
  now?: () => Date;
}

/**
 * Wires the adapters into the services from the configuration: the one place the server, the CLI and the
 * tests build them, so they all run the same thing. The data folder is emptied; models load on `models.start()`.
 */
export async function createServices(config: Config, logger: Logger, overrides: ServiceOverrides = {}): Promise<Services> {
  const { ffmpeg, files, codec } = await createAdapters(config, overrides);
  const models = overrides.models?.() ?? new ModelService(config.modelsDir, config.workers, logger);
  const jobs = new JobService({
    codec: overrides.codec?.(codec) ?? codec,
    models,
    files,
    logger,
    concurrency: config.workers,
    maxQueue: config.maxQueue,
    encodeConcurrency: config.encodeWorkers,
    maxEncodeQueue: config.maxEncodeQueue,
    maxDurationSeconds: config.maxDurationSeconds,
    ttlMs: config.resultTtlMs,
    minFreeBytes: config.minFreeDiskBytes,
    now: overrides.now,
  });
  return { ffmpeg, files, models, jobs, readiness: new Readiness(models, codec, files), codec };
}

async function createAdapters(config: Config, overrides: ServiceOverrides = {}): Promise<Pick<Services, 'ffmpeg' | 'files' | 'codec'>> {
  const ffmpeg = resolveFfmpeg(config.ffmpegPath, { preferSystem: config.useSystemFfmpeg });
  const files = overrides.files?.(config.dataDir) ?? new FileStore(config.dataDir);
  // The disk is ephemeral on Heroku and jobs live in memory (or in the queue): start from an empty data folder every time.
  await files.reset();
  const codec = createAudioCodec({ ffmpegPath: ffmpeg.path, timeoutMs: config.ffmpegTimeoutMs, stallTimeoutMs: config.ffmpegStallTimeoutMs });
  return { ffmpeg, files, codec };
}

/** What the HTTP server needs, in either mode. */
export interface ServerServices extends Omit<Services, 'jobs'> {
  jobs: JobQueue;
  rateLimitStore?: Store;
}

/** The HTTP server's services: embedded (in-process jobs, local disk) unless the configuration has REDIS_URL. */
export async function createServerServices(config: Config, logger: Logger): Promise<ServerServices> {
  return config.distributed ? createWebServices(config, config.distributed, logger) : createServices(config, logger);
}

/** Distributed mode's web process: jobs on the shared queue, files in object storage, the rate limit in Redis. */
export interface WebServices extends Omit<Services, 'jobs'> {
  jobs: DistributedJobs;
  rateLimitStore: Store;
}

export async function createWebServices(config: Config, distributed: DistributedConfig, logger: Logger): Promise<WebServices> {
  const { ffmpeg, files, codec } = await createAdapters(config);
  // Workers enrich; this process only needs the style list.
  const models = new ModelService(config.modelsDir, 0, logger);
  const store = new ObjectStore(distributed.objectStore);
  const redis = redisClient(distributed.redisUrl);
  const queue = new EnrichQueue<QueuedEnrich, EnrichOutcome>(distributed.redisUrl, redis);
  const jobs = new DistributedJobs({
    queue,
    store,
    models,
    codec,
    files,
    logger,
    maxQueue: config.maxQueue,
    ttlMs: config.resultTtlMs,
    encodeConcurrency: config.encodeWorkers,
    maxEncodeQueue: config.maxEncodeQueue,
  });
  const readiness = new Readiness(models, codec, files, { redis: () => queue.ping(), objectStorage: () => store.check() });
  const rateLimitStore = new RedisStore({
    prefix: 'enricher:rate:',
    sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
  });
  return { ffmpeg, files, models, jobs, readiness, codec, rateLimitStore };
}

/** Distributed mode's worker process: the embedded services, fed by the shared queue. */
export interface WorkerServices extends Services {
  worker: EnrichWorker<QueuedEnrich, EnrichOutcome>;
}

export async function createWorkerServices(config: Config, distributed: DistributedConfig, logger: Logger): Promise<WorkerServices> {
  const services = await createServices(config, logger);
  const store = new ObjectStore(distributed.objectStore);
  const runner = new QueuedJobRunner({ jobs: services.jobs, store, files: services.files, logger });
  const worker = new EnrichWorker<QueuedEnrich, EnrichOutcome>(
    distributed.redisUrl,
    redisClient(distributed.redisUrl),
    { concurrency: config.workers, lockMs: distributed.lockMs },
    (job) => runner.run(job),
  );
  return { ...services, worker };
}
