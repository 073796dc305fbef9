import { z } from 'zod/mini';
import { ERROR_CODES } from './errors.js';
import { outputFormatSchema } from './formats.js';
import { intensityTextSchema } from './intensity.js';
import { JOB_STAGES, JOB_STATUSES } from './job-state.js';
import { keepSchema, loudnessTargetSchema, RATINGS } from './params.js';
import { STYLE_ID } from './style-spec.js';

/** What the server answers, as the web app and other clients read it. */

export const STYLE_KINDS = ['genre', 'nature', 'instrument', 'texture'] as const;

/** `GET /healthz`: the port is bound. */
export const healthSchema = z.object({ status: z.literal('ok') });
export type HealthView = z.infer<typeof healthSchema>;

/** `GET /readyz`: whether a job can run end to end, and each thing it needs ("ok", or why not). */
export const readinessSchema = z.object({
  status: z.enum(['ready', 'loading', 'failed', 'unavailable']),
  models: z.optional(z.object({ version: z.string(), styles: z.number() })),
  message: z.optional(z.string()),
  checks: z.record(z.string(), z.string()),
});
export type ReadinessView = z.infer<typeof readinessSchema>;

/** The body of every error answer. */
export const errorBodySchema = z.object({ error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }) });
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** A style as clients see it (`GET /api/styles`). */
export const styleSchema = z.object({
  id: z.string().check(z.regex(STYLE_ID)),
  label: z.string().check(z.minLength(1)),
  kind: z.enum(STYLE_KINDS),
  description: z.string().check(z.minLength(1)),
  /** Who made the recording the style plays and under which licence, in one line shown with the style. */
  credit: z.optional(z.string()),
  /** The licence that recording is shared under, as an SPDX id ("CC-BY-SA-3.0"); set whenever `credit` is. */
  license: z.optional(z.string().check(z.regex(/^[A-Za-z0-9.+-]+$/))),
  /** The style is the user's own recording: a request that uses it sends that recording as `texture`. */
  needsTexture: z.optional(z.boolean()),
});
export type Style = z.infer<typeof styleSchema>;
export type StyleKind = Style['kind'];

export const styleListSchema = z.object({ styles: z.array(styleSchema), defaultStyle: z.string() });
export type StyleList = z.infer<typeof styleListSchema>;

/** `GET /api/limits`: what uploads are held to, so a client can refuse a file before sending it. */
export const limitsSchema = z.object({
  maxUploadBytes: z.number(),
  maxDurationSeconds: z.number(),
  /** Album mode: all the files of one `POST /api/batches` together, and how many it takes at most. */
  maxBatchBytes: z.number(),
  maxBatchFiles: z.number(),
});
export type Limits = z.infer<typeof limitsSchema>;

/** A job's parameters as resolved: the canonical style, its weights, and the seed actually used. */
export const jobParamsSchema = z.object({
  style: z.string(),
  weights: z.record(z.string(), z.number()),
  amount: z.number(),
  seed: z.int(),
  format: outputFormatSchema,
  start: z.optional(z.number()),
  end: z.optional(z.number()),
  /** `whole`: the whole file came back with only start…end enriched; absent: only the section came back. */
  keep: z.optional(keepSchema),
  loudness: z.optional(loudnessTargetSchema),
  /** The intensity curve, as `seconds:value` points in the song's time (see the `intensity` field). */
  intensity: z.optional(intensityTextSchema),
});
export type JobParams = z.infer<typeof jobParamsSchema>;

/** Integrated loudness (LUFS, ITU-R BS.1770) and true peak (dBTP); null for audio too short or too quiet to read. */
export const loudnessReadingSchema = z.object({ integrated: z.nullable(z.number()), truePeak: z.nullable(z.number()) });
export type LoudnessReading = z.infer<typeof loudnessReadingSchema>;

/** What a job with a `loudness` target measured and did: the level it aimed at, the gain, before and after. */
export const loudnessReportSchema = z.object({
  /** The target in LUFS: the one asked for, or the input's own for "match" (null when the input has no reading). */
  target: z.nullable(z.number()),
  /** The gain applied to the enriched song before its true-peak limiter, in dB. */
  gainDb: z.number(),
  input: loudnessReadingSchema,
  result: loudnessReadingSchema,
});
export type LoudnessReport = z.infer<typeof loudnessReportSchema>;

export const jobOutputSchema = z.object({
  sampleRate: z.number(),
  channels: z.number(),
  durationSeconds: z.number(),
  loudness: z.optional(loudnessReportSchema),
});
export type JobOutput = z.infer<typeof jobOutputSchema>;

/** `GET /api/jobs/:id`, each Server-Sent Event, and the answer to `POST /api/jobs`. */
export const jobViewSchema = z.object({
  id: z.string(),
  status: z.enum(JOB_STATUSES),
  stage: z.enum(JOB_STAGES),
  progress: z.number().check(z.minimum(0), z.maximum(1)),
  params: jobParamsSchema,
  input: z.object({ name: z.string() }),
  /** The user's own recording that the style "own" wove in: its name and SHA-256. */
  texture: z.optional(z.object({ name: z.string(), sha256: z.string() })),
  output: z.optional(jobOutputSchema),
  error: z.optional(z.object({ code: z.enum(ERROR_CODES), message: z.string() })),
  /** For a queued job: how many songs wait ahead of it for a free worker (0: it is next). */
  ahead: z.optional(z.int().check(z.minimum(0))),
  /** Why a queued job is held up by something other than the songs ahead of it, e.g. no worker to take it. */
  notice: z.optional(z.string()),
  feedback: z.optional(z.enum(RATINGS)),
  createdAt: z.string(),
  expiresAt: z.string(),
  links: z.object({
    self: z.string(),
    events: z.string(),
    result: z.string(),
    /** The upload as it was sent. */
    input: z.string(),
    /** The part of the input that was enriched, as mp3, once the job is done: what the result compares with. */
    original: z.string(),
    /** The result as mp3, encoded while the job ran: what a player streams. */
    listening: z.string(),
    peaks: z.string(),
    recipe: z.string(),
    share: z.string(),
  }),
});
export type JobView = z.infer<typeof jobViewSchema>;

/**
 * `GET /api/jobs/:id/peaks`: waveform peaks of the decoded input (the section, when one was chosen) and of the
 * result, one per `secondsPerPeak`: the browser draws from these instead of downloading and decoding both
 * files. While the job runs the lists grow; `expectedPeaks` is how long they will be, when the decoder can tell.
 */
export const jobPeaksSchema = z.object({
  secondsPerPeak: z.number(),
  expectedPeaks: z.nullable(z.number()),
  complete: z.boolean(),
  input: z.array(z.number()),
  result: z.array(z.number()),
});
export type JobPeaks = z.infer<typeof jobPeaksSchema>;
