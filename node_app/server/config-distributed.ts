import { z } from 'zod';

const blank = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalText = z.preprocess(blank, z.string().optional());

export const FILE_STORAGES = ['local', 's3'] as const;
export type FileStorage = (typeof FILE_STORAGES)[number];

/** Where jobs live: the queue (`REDIS_URL`) and the files (`FILE_STORAGE`), validated with the rest of the configuration. */
export const distributedSchema = {
  REDIS_URL: z.preprocess(
    blank,
    z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  ),
  // Jobs' files on this machine's disk, or in an S3 bucket every process reads; S3 by default with REDIS_URL.
  FILE_STORAGE: z.preprocess(blank, z.enum(FILE_STORAGES, { error: `must be one of ${FILE_STORAGES.join(', ')}` }).optional()),
  S3_BUCKET: optionalText,
  AWS_ACCESS_KEY_ID: optionalText,
  AWS_SECRET_ACCESS_KEY: optionalText,
  AWS_REGION: optionalText,
  // An S3-compatible server (MinIO, R2, a test's s3rver) instead of AWS.
  S3_ENDPOINT: z.preprocess(blank, z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional()),
  // The Bucketeer add-on sets its own names; the plain ones win where both are set.
  BUCKETEER_BUCKET_NAME: optionalText,
  BUCKETEER_AWS_ACCESS_KEY_ID: optionalText,
  BUCKETEER_AWS_SECRET_ACCESS_KEY: optionalText,
  BUCKETEER_AWS_REGION: optionalText,
  // A worker renews its claim on a job while it runs; one killed mid-job (SIGKILL, a crashed dyno) lets the
  // claim lapse after this long, and another worker runs the job again.
  JOB_LOCK_S: z.coerce.number().min(1).max(600).default(30),
};

const distributedObject = z.object(distributedSchema);
type DistributedEnv = z.output<typeof distributedObject>;

export interface ObjectStoreConfig {
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  endpoint?: string;
}

/** The shared queue: web processes add jobs, worker processes run them. */
export interface RedisConfig {
  url: string;
  lockMs: number;
}

export interface JobPartsConfig {
  /** Set when REDIS_URL is: jobs go on a BullMQ queue that worker processes run; otherwise this process runs them. */
  redis?: RedisConfig;
  fileStorage: FileStorage;
  /** Set when the files are in S3. */
  objectStore?: ObjectStoreConfig;
}

function objectStoreOf(e: DistributedEnv): Partial<ObjectStoreConfig> {
  return {
    bucket: e.S3_BUCKET ?? e.BUCKETEER_BUCKET_NAME,
    region: e.AWS_REGION ?? e.BUCKETEER_AWS_REGION ?? 'us-east-1',
    accessKeyId: e.AWS_ACCESS_KEY_ID ?? e.BUCKETEER_AWS_ACCESS_KEY_ID,
    secretAccessKey: e.AWS_SECRET_ACCESS_KEY ?? e.BUCKETEER_AWS_SECRET_ACCESS_KEY,
    endpoint: e.S3_ENDPOINT,
  };
}

const REQUIRED = [
  ['bucket', 'S3_BUCKET (or BUCKETEER_BUCKET_NAME)'],
  ['accessKeyId', 'AWS_ACCESS_KEY_ID (or BUCKETEER_AWS_ACCESS_KEY_ID)'],
  ['secretAccessKey', 'AWS_SECRET_ACCESS_KEY (or BUCKETEER_AWS_SECRET_ACCESS_KEY)'],
] as const;

const fileStorageOf = (e: DistributedEnv): FileStorage => e.FILE_STORAGE ?? (e.REDIS_URL ? 's3' : 'local');

export const distributedConfig = {
  /** Files in S3 need a bucket and its credentials; a shared queue needs files every process can read. */
  check(e: DistributedEnv, ctx: z.RefinementCtx): void {
    const storage = fileStorageOf(e);
    if (e.REDIS_URL && storage === 'local') {
      ctx.addIssue({ code: 'custom', path: ['FILE_STORAGE'], message: 'must be s3 when REDIS_URL is set: worker dynos do not share a disk with web dynos' });
    }
    if (storage !== 's3') return;
    const store = objectStoreOf(e);
    for (const [field, names] of REQUIRED) {
      if (!store[field]) ctx.addIssue({ code: 'custom', path: [names], message: 'is required when REDIS_URL is set or FILE_STORAGE=s3' });
    }
  },

  from(e: DistributedEnv): JobPartsConfig {
    const fileStorage = fileStorageOf(e);
    return {
      redis: e.REDIS_URL ? { url: e.REDIS_URL, lockMs: e.JOB_LOCK_S * 1000 } : undefined,
      fileStorage,
      objectStore: fileStorage === 's3' ? (objectStoreOf(e) as ObjectStoreConfig) : undefined,
    };
  },
};
