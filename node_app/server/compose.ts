import path from 'node:path';
import type { Store } from 'express-rate-limit';
import type { RedisReply } from 'rate-limit-redis';
import { createAudioCodec, type AudioCodec } from './adapters/media/audio-codec.js';
import { bankFileReader } from './adapters/inference/bank-reader.js';
import { ProcessLauncher } from './adapters/media/process-launcher.js';
import { resolveFfmpeg, type FfmpegBinary } from './adapters/media/ffmpeg/binary.js';
import { noRunner, type JobQueue, type JobRunner } from './adapters/queue/job-queue.js';
import { MemoryQueue } from './adapters/queue/memory-queue.js';
import type { BlobStore } from './adapters/storage/blob-store.js';
import { FileStore } from './adapters/storage/file-store.js';
import { LocalBlobStore } from './adapters/storage/local-blob-store.js';
import { S3BlobStore } from './adapters/storage/s3-blob-store.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { jobPayloads, type JobData, type JobResult } from './services/job-record.js';
import { BatchService } from './services/batch-service.js';
import { JobService } from './services/job-service.js';
import { ModelService } from './services/model-service.js';
import type { Models } from './services/models.js';
import { Readiness, type ReadinessProbe } from './services/readiness.js';

export interface Services {
  ffmpeg: FfmpegBinary;
  files: FileStore;
  models: Models;
  jobs: JobService;
  /** Album mode, over the same jobs. */
  batches: BatchService;
  readiness: Readiness;
  codec: AudioCodec;
  /** Where the rate limit counts: in Redis, shared by every web process, beside a shared queue; this process's memory if unset. */
  rateLimitStore?: Store;
}

/** Seams for tests: fault injection in the adapters, models that need no ONNX Runtime, a movable clock. */
export interface ServiceOverrides {
  files?: (dataDir: string) => FileStore;
  codec?: (real: AudioCodec) => AudioCodec;
  models?: () => Models;
  now?: () => Date;
}

/** The process being built: the web process serves HTTP (and runs jobs itself without a shared queue); a worker only runs jobs. */
type Role = 'web' | 'worker';

/**
 * The HTTP server's services, and the CLI's and the tests': jobs in this process's memory, run here, unless
 * REDIS_URL puts them on the shared queue for worker processes; files where FILE_STORAGE says.
 */
export function createServices(config: Config, logger: Logger, overrides: ServiceOverrides = {}): Promise<Services> {
  return compose(config, logger, 'web', overrides);
}

/** The distributed mode's `worker:` process: the same job service, taking jobs from the shared queue. */
export function createWorkerServices(config: Config, logger: Logger): Promise<Services> {
  return compose(config, logger, 'worker', {});
}

/**
 * Wires the adapters into the services: the one place that chooses the parts of a mode, so the server, the
 * worker, the CLI and the tests all run the same lifecycle. The data folder is emptied; models load on
 * `models.start()`, jobs are taken from `jobs.start()` on.
 */
async function compose(config: Config, logger: Logger, role: Role, overrides: ServiceOverrides): Promise<Services> {
  const ffmpeg = resolveFfmpeg(config.ffmpegPath, { preferSystem: config.useSystemFfmpeg });
  const files = overrides.files?.(config.dataDir) ?? new FileStore(config.dataDir);
  // The disk is ephemeral on Heroku and only ever holds this process's uploads and staging copies, or (local
  // storage) files of jobs whose records went with the process that made them: start from an empty folder.
  await files.reset();
  const launcher = new ProcessLauncher();
  const realCodec = createAudioCodec({ ffmpegPath: ffmpeg.path, timeoutMs: config.ffmpegTimeoutMs, stallTimeoutMs: config.ffmpegStallTimeoutMs, launcher });
  const codec = overrides.codec?.(realCodec) ?? realCodec;
  const probes: Record<string, ReadinessProbe> = {};

  const blobs = await blobStore(config, files);
  if (config.objectStore) probes.objectStorage = () => blobs.check();

  const { queue, runner, rateLimitStore } = await queueParts(config, logger, role);
  if (config.redis) probes.redis = () => queue.ping();
  if (role === 'web' && config.redis) {
    probes.workers = async () => {
      // Jobs would be accepted and wait for ever: this process cannot run a job end to end without one.
      if ((await queue.runnerCount()) === 0) throw new Error('no worker is connected to the queue, so jobs wait: start one (npm run worker; on Heroku, heroku ps:scale worker=1)');
    };
  }

  const runsJobs = role === 'worker' || !config.redis;
  const models = overrides.models?.() ?? new ModelService(config.modelsDir, logger, runsJobs ? { workers: config.workers, banks: bankFileReader(bankFfmpeg()), banksDir: () => path.join(launcher.folder, 'banks') } : undefined);
  const jobs = new JobService(
    { queue, blobs, runner, files, codec, models, logger, now: overrides.now },
    {
      maxQueue: config.maxQueue,
      maxDurationSeconds: config.maxDurationSeconds,
      ttlMs: config.resultTtlMs,
      encodeConcurrency: config.encodeWorkers,
      maxEncodeQueue: config.maxEncodeQueue,
      minFreeBytes: config.minFreeDiskBytes,
    },
  );
  const batches = new BatchService({ jobs, blobs, files, codec, logger, styles: () => models.catalog().list() });
  return { ffmpeg, files, models, jobs, batches, readiness: new Readiness(models, realCodec, files, probes), codec, rateLimitStore };
}

interface QueueParts {
  queue: JobQueue<JobData, JobResult>;
  runner: JobRunner<JobData, JobResult>;
  rateLimitStore?: Store;
}

/**
 * The files on this machine's disk, or in S3. The AWS SDK, BullMQ and ioredis are loaded only where they are
 * configured: they hold about 45 MB of resident memory that an embedded server would carry for nothing.
 */
async function blobStore(config: Config, files: FileStore): Promise<BlobStore> {
  if (!config.objectStore) return new LocalBlobStore(files);
  const { ObjectStore } = await import('./adapters/storage/object-store.js');
  return new S3BlobStore(new ObjectStore(config.objectStore), files);
}

/** Records and queue in memory with a runner in this process, or in Redis with worker processes as the runners. */
async function queueParts(config: Config, logger: Logger, role: Role): Promise<QueueParts> {
  if (!config.redis) {
    const queue = new MemoryQueue<JobData, JobResult>();
    return { queue, runner: queue.runner(config.workers) };
  }
  const [{ BullQueue, BullRunner }, { redisClient }, { RedisStore }] = await Promise.all([
    import('./adapters/queue/bullmq-queue.js'),
    import('./adapters/queue/redis.js'),
    import('rate-limit-redis'),
  ]);
  const { url, lockMs } = config.redis;
  // One plain client for the queue's cancellation marks and the rate limit; the queue closes it.
  const redis = redisClient(url);
  const queue = new BullQueue<JobData, JobResult>(url, redis, jobPayloads);
  if (role === 'worker') {
    const runner = new BullRunner<JobData, JobResult>(url, redisClient(url), jobPayloads, { concurrency: config.workers, lockMs });
    runner.onError((error) => logger.error({ err: error }, 'queue connection error'));
    return { queue, runner };
  }
  const rateLimitStore = new RedisStore({
    prefix: 'enricher:rate:',
    sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
  });
  return { queue, runner: noRunner(), rateLimitStore };
}

/**
 * The ffmpeg that decodes the models' own recordings: the bundled static build, never an `FFMPEG_PATH` meant for
 * users' files (a wrapper, or a stand-in that fails on purpose in the fault tests). Any ffmpeg decodes the FLAC
 * banks to the same samples (test/banks.test.ts), and these are the app's own files, so the system build's
 * security fixes are not needed here; its start-up is: Debian's links a hundred shared libraries each time, and
 * took 13 s for the 83 files one after another where the static build took 1.7 s, which was most of the time to
 * `/readyz`.
 */
function bankFfmpeg(): string {
  return resolveFfmpeg(undefined, { preferSystem: false }).path;
}
