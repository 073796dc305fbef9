import { z } from 'zod/mini';
import { ERROR_CODES } from './errors.js';
import { JOB_STAGES, JOB_STATUSES } from './job-state.js';
import { jobParamsSchema, loudnessReadingSchema } from './views.js';

/** Album mode: how many files one `POST /api/batches` takes, each held to the single upload's limits. */
export const BATCH_FILES = { min: 2, max: 20 } as const;

/** One job of a batch: its id, and the name of the file it enriches. */
export const batchJobSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(JOB_STATUSES),
  stage: z.enum(JOB_STAGES),
  progress: z.number().check(z.minimum(0), z.maximum(1)),
  error: z.optional(z.object({ code: z.enum(ERROR_CODES), message: z.string() })),
  links: z.object({ self: z.string(), result: z.string() }),
});
export type BatchJobView = z.infer<typeof batchJobSchema>;

/**
 * An album levelled to a loudness target: one gain for every song, so the songs keep their loudness relative to
 * each other (ReplayGain's and the streaming services' album mode), then each song's true-peak limiter.
 */
export const batchLoudnessSchema = z.object({
  /** The album's target, LUFS. */
  target: z.number(),
  /** The one gain every song got, dB. */
  gainDb: z.number(),
  /** The album as one programme, before and after: integrated loudness (LUFS) and the highest true peak (dBTP). */
  before: loudnessReadingSchema,
  after: loudnessReadingSchema,
});
export type BatchLoudness = z.infer<typeof batchLoudnessSchema>;

/**
 * `GET /api/batches/:id`, and the answer to `POST /api/batches`: every job of the album with its status, and the
 * album's as a whole — running until every job has finished, then done (failed only when every job failed) —
 * with the mean of the jobs' progress.
 */
export const batchViewSchema = z.object({
  id: z.string(),
  status: z.enum(JOB_STATUSES),
  progress: z.number().check(z.minimum(0), z.maximum(1)),
  /** The parameters every job was given (the seed is the album's: the same for all). */
  params: jobParamsSchema,
  jobs: z.array(batchJobSchema),
  /** With a loudness target, once every song has finished and the album has been measured. */
  loudness: z.optional(batchLoudnessSchema),
  createdAt: z.string(),
  expiresAt: z.string(),
  links: z.object({ self: z.string(), download: z.string() }),
});
export type BatchView = z.infer<typeof batchViewSchema>;
