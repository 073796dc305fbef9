import path from 'node:path';
import { z } from 'zod';
import { distributedConfig, distributedSchema, type JobPartsConfig } from './config-distributed.js';

const positiveInt = z.coerce.number().int().positive();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(5000),
  DATA_DIR: z.string().default(path.resolve('data')),
  MODELS_DIR: z.string().default(path.resolve('models')),
  WEB_DIR: z.string().default(path.resolve('dist/web')),
  FFMPEG_PATH: z.string().optional(),
  // A distribution's ffmpeg gets security fixes; the bundled static build is from 2018. So a system ffmpeg
  // (the Aptfile's on Heroku, apt's on a dev machine) decodes uploads wherever there is one.
  USE_SYSTEM_FFMPEG: z.enum(['true', 'false', '1', '0']).default('true').transform((v) => v === 'true' || v === '1'),
  MAX_UPLOAD_MB: z.coerce.number().positive().default(50),
  MAX_DURATION_S: z.coerce.number().positive().default(600),
  // An album (POST /api/batches) takes up to 20 files, each held to MAX_UPLOAD_MB; all of them together to this.
  MAX_BATCH_MB: z.coerce.number().positive().default(200),
  RESULT_TTL_MIN: z.coerce.number().positive().default(60),
  // One inference worker by default: with two, four simultaneous 10-minute uploads peaked at 292–310 MB of
  // node RSS (Procfile settings), over the 300 MB budget of a 512 MB dyno; with one, 227–248 MB (docs/performance.md).
  // Each worker runs ONNX Runtime on one thread, so up to one per core (WORKERS=2) suits a bigger machine.
  WORKERS: positiveInt.default(1),
  MAX_QUEUE: z.coerce.number().int().min(0).default(8),
  // Result downloads in mp3/flac/ogg are encoded on demand. One encoder leaves the other core to the HTTP loop
  // and the jobs; a few dozen may wait (one per job and format), each costing nothing until its turn.
  ENCODE_WORKERS: positiveInt.default(1),
  MAX_ENCODE_QUEUE: z.coerce.number().int().min(0).default(24),
  FFMPEG_TIMEOUT_S: z.coerce.number().positive().default(120),
  // A local file decodes without pause; ffmpeg silent this long is waiting on something (a stream, a pipe)
  // at no CPU, and would hold a worker for FFMPEG_TIMEOUT_S.
  FFMPEG_STALL_TIMEOUT_S: z.coerce.number().positive().default(10),
  // Per client IP, on the two endpoints that start work; a song takes seconds of CPU, so a few a minute is plenty.
  RATE_LIMIT_PER_MIN: positiveInt.default(20),
  // Heroku's router drops a request after 55 s without a byte; giving up earlier frees the upload's slot sooner.
  UPLOAD_IDLE_TIMEOUT_S: z.coerce.number().positive().default(30),
  // A trickle that never stalls would otherwise hold a connection and a temp file up to Node's 300 s
  // requestTimeout; 50 MB at 4 Mbit/s takes 100 s.
  UPLOAD_TIMEOUT_S: z.coerce.number().positive().default(120),
  // Which proxies' X-Forwarded-For and X-Forwarded-Proto to believe: a number of hops, or their addresses and
  // subnets as Express reads them ("loopback, 10.0.0.0/8"). Unset: one hop on Heroku (DYNO is set there, and its
  // router is the one proxy), none elsewhere, where a client could otherwise name its own address.
  TRUST_PROXY: z
    .string()
    .trim()
    .refine((v) => v !== 'true', 'trusting every hop lets a client name its own address; give a number of hops or the proxies\' addresses')
    .optional(),
  DYNO: z.string().optional(),
  // Uploads are refused before the disk is completely full, so results in progress still have room to be written.
  MIN_FREE_DISK_MB: z.coerce.number().min(0).default(100),
  // Heroku sends SIGTERM and SIGKILLs 30 s later; work still running after the grace is cancelled.
  SHUTDOWN_GRACE_S: z.coerce.number().min(0).max(27).default(25),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...distributedSchema,
});

export interface Config extends JobPartsConfig {
  env: 'development' | 'production' | 'test';
  port: number;
  dataDir: string;
  modelsDir: string;
  webDir: string;
  ffmpegPath?: string;
  useSystemFfmpeg: boolean;
  maxUploadBytes: number;
  maxDurationSeconds: number;
  maxBatchBytes: number;
  resultTtlMs: number;
  workers: number;
  maxQueue: number;
  encodeWorkers: number;
  maxEncodeQueue: number;
  ffmpegTimeoutMs: number;
  ffmpegStallTimeoutMs: number;
  rateLimitPerMinute: number;
  uploadIdleTimeoutMs: number;
  uploadTimeoutMs: number;
  minFreeDiskBytes: number;
  /** Express's `trust proxy`: hops to trust, the proxies' addresses, or false for none. */
  trustProxy: number | string | false;
  shutdownGraceMs: number;
  logLevel: string;
}

/** A setting in the environment that cannot be used; its message names the variable and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment once, at start; a bad value is a ConfigError that names it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.superRefine(distributedConfig.check).safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    dataDir: path.resolve(e.DATA_DIR),
    modelsDir: path.resolve(e.MODELS_DIR),
    webDir: path.resolve(e.WEB_DIR),
    ffmpegPath: e.FFMPEG_PATH,
    useSystemFfmpeg: e.USE_SYSTEM_FFMPEG,
    maxUploadBytes: Math.round(e.MAX_UPLOAD_MB * 1024 * 1024),
    maxDurationSeconds: e.MAX_DURATION_S,
    maxBatchBytes: Math.round(e.MAX_BATCH_MB * 1024 * 1024),
    resultTtlMs: e.RESULT_TTL_MIN * 60_000,
    workers: e.WORKERS,
    maxQueue: e.MAX_QUEUE,
    encodeWorkers: e.ENCODE_WORKERS,
    maxEncodeQueue: e.MAX_ENCODE_QUEUE,
    ffmpegTimeoutMs: e.FFMPEG_TIMEOUT_S * 1000,
    ffmpegStallTimeoutMs: e.FFMPEG_STALL_TIMEOUT_S * 1000,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MIN,
    uploadIdleTimeoutMs: e.UPLOAD_IDLE_TIMEOUT_S * 1000,
    uploadTimeoutMs: e.UPLOAD_TIMEOUT_S * 1000,
    minFreeDiskBytes: Math.round(e.MIN_FREE_DISK_MB * 1024 * 1024),
    trustProxy: trustProxy(e.TRUST_PROXY, e.DYNO),
    shutdownGraceMs: e.SHUTDOWN_GRACE_S * 1000,
    logLevel: e.LOG_LEVEL,
    ...distributedConfig.from(e),
  };
}

/**
 * loadConfig for a process's entry point: a bad value stops the process with that one line on stderr and exit
 * code 1, not a stack trace a person has to read through to find the variable.
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

function trustProxy(setting: string | undefined, dyno: string | undefined): number | string | false {
  if (setting === undefined || setting === '') return dyno ? 1 : false;
  if (setting === 'false') return false;
  return /^\d+$/.test(setting) ? Number(setting) || false : setting;
}
