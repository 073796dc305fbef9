import { createAudioCodec, type AudioCodec } from './adapters/audio-codec.js';
import { resolveFfmpeg, type FfmpegBinary } from './adapters/ffmpeg.js';
import { FileStore } from './adapters/file-store.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { JobService } from './services/job-service.js';
import { ModelService } from './services/model-service.js';
import type { Models } from './services/models.js';
import { Readiness } from './services/readiness.js';

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
  const ffmpeg = resolveFfmpeg(config.ffmpegPath, { preferSystem: config.useSystemFfmpeg });
  const files = overrides.files?.(config.dataDir) ?? new FileStore(config.dataDir);
  // The disk is ephemeral on Heroku and jobs live in memory: start from an empty data folder every time.
  await files.reset();
  const codec = createAudioCodec({ ffmpegPath: ffmpeg.path, timeoutMs: config.ffmpegTimeoutMs, stallTimeoutMs: config.ffmpegStallTimeoutMs });
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
