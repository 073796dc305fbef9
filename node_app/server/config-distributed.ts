import { z } from 'zod';

const blank = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalText = z.preprocess(blank, z.string().optional());

/** The environment variables of distributed mode, validated with the rest of the configuration. */
export const distributedSchema = {
  REDIS_URL: z.preprocess(
    blank,
    z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  ),
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

export interface DistributedConfig {
  redisUrl: string;
  objectStore: ObjectStoreConfig;
  lockMs: number;
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

export const distributedConfig = {
  /** With REDIS_URL set, results go to object storage, so a bucket and its credentials are required. */
  check(e: DistributedEnv, ctx: z.RefinementCtx): void {
    if (!e.REDIS_URL) return;
    const store = objectStoreOf(e);
    for (const [field, names] of REQUIRED) {
      if (!store[field]) ctx.addIssue({ code: 'custom', path: [names], message: 'is required when REDIS_URL is set (distributed mode)' });
    }
  },

  /** Embedded mode (undefined) unless REDIS_URL is set. */
  from(e: DistributedEnv): DistributedConfig | undefined {
    if (!e.REDIS_URL) return undefined;
    return { redisUrl: e.REDIS_URL, objectStore: objectStoreOf(e) as ObjectStoreConfig, lockMs: e.JOB_LOCK_S * 1000 };
  },
};
