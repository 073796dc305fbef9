import { z } from 'zod/mini';
import { AppError, errors } from './errors.js';
import { DEFAULT_FORMAT, requestedFormatSchema, resultPartSchema } from './formats.js';
import { intensityFieldSchema } from './intensity.js';

/** A day: any section of any recording worth uploading starts and ends within it. */
export const MAX_OFFSET_SECONDS = 86_400;
export const MAX_SEED = 0xffffffff;
/** The shortest section worth enriching; below it a section can hold less than one frame of a compressed file. */
export const MIN_SECTION_SECONDS = 0.1;
/** How long a user's own recording (the `texture` file of the style "own") may be, in seconds. */
export const OWN_TEXTURE_SECONDS = { min: 3, max: 120 } as const;
/** The style whose sound is the user's own recording. */
export const OWN_STYLE = 'own';

/** The texture-specific refusals: the same codes as for the song, with the field named. */
export const textureErrors = {
  empty: () => errors.invalidParameter('texture', 'the file is empty. Send a recording of 3 s to 2 minutes.'),
  unused: () => errors.invalidParameter('texture', `a texture file is only used by the style "${OWN_STYLE}" (alone or in a mix such as ${OWN_STYLE}:0.6,rain:0.4).`),
  tooShort: (seconds: number) =>
    errors.invalidParameter('texture', `the recording is ${Math.round(seconds * 10) / 10} s long; a texture must be at least ${OWN_TEXTURE_SECONDS.min} s.`),
  tooLong: () => {
    const { code, headers, status } = errors.tooLong(OWN_TEXTURE_SECONDS.max);
    const minutes = OWN_TEXTURE_SECONDS.max / 60;
    return new AppError(code, `texture: the recording is longer than ${minutes} minutes. Send ${OWN_TEXTURE_SECONDS.min} s to ${minutes} minutes of it.`, headers, status);
  },
};

/** Whether start…end is shorter than {@link MIN_SECTION_SECONDS}; the margin keeps 10.1 − 10 (0.0999… in floats) allowed. */
export function isSectionTooShort(start: number | undefined, end: number): boolean {
  return end - (start ?? 0) < MIN_SECTION_SECONDS - 1e-9;
}

/** The loudness targets a job may ask for, in LUFS: from quiet broadcast-style levels to loud masters. */
export const LOUDNESS_RANGE = { min: -30, max: -5 } as const;
/** The `loudness` value that keeps the input's own integrated loudness. */
export const MATCH_LOUDNESS = 'match';
/** A job's loudness target: LUFS, or the input's own. */
export const loudnessTargetSchema = z.union([z.number().check(z.minimum(LOUDNESS_RANGE.min), z.maximum(LOUDNESS_RANGE.max)), z.literal(MATCH_LOUDNESS)]);
export type LoudnessTarget = z.infer<typeof loudnessTargetSchema>;

/** How much of the style a job adds when its client does not say. */
export const DEFAULT_AMOUNT = 0.5;

/** A section's start comes before its end, where both are given. */
export function isSectionOrdered(start: number | undefined, end: number | undefined): boolean {
  return start === undefined || end === undefined || start < end;
}

/**
 * What comes back of a job with a section: the section alone (the default), or the whole file with only the
 * section enriched.
 */
export const KEEP_MODES = ['section', 'whole'] as const;
export type KeepMode = (typeof KEEP_MODES)[number];
export const keepSchema = z.enum(KEEP_MODES, { error: 'must be "section" (only the section comes back) or "whole" (the whole file, only the section enriched)' });

/** Rounded to thousandths: enough for a weight, a progress or a number of seconds, and short in JSON. */
export function thousandths(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** A seed for a job whose client chose none: any of the seeds the `seed` field accepts. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

// Form fields arrive as strings, and an empty field means "not given".
const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const field = <T extends z.ZodMiniType>(schema: T) => z.pipe(z.transform(blankToUndefined), schema);

const AMOUNT = 'must be between 0 and 1';
const SEED = `must be a whole number from 0 to ${MAX_SEED}`;
const SECONDS = `must be a number of seconds from 0 to ${MAX_OFFSET_SECONDS}`;
/** For text that reads as no number at all ("abc"): saying so is clearer than naming a range it is not in. */
const notANumber = (range: string) => `is not a number; it ${range}`;
const LOUDNESS = `must be "${MATCH_LOUDNESS}" or a loudness in LUFS from ${LOUDNESS_RANGE.min} to ${LOUDNESS_RANGE.max}`;
const seconds = () => z.coerce.number({ error: notANumber(SECONDS) }).check(z.maximum(MAX_OFFSET_SECONDS, SECONDS));

/** The enrich form (`POST /api/enrich`, `POST /api/jobs`) and the CLI's options: text in, typed parameters out. */
export const enrichParamsSchema = z
  .object({
    style: field(z.optional(z.string().check(z.maxLength(300, 'must be at most 300 characters')))),
    amount: field(z._default(z.coerce.number({ error: notANumber(AMOUNT) }).check(z.minimum(0, AMOUNT), z.maximum(1, AMOUNT)), DEFAULT_AMOUNT)),
    seed: field(z.optional(z.pipe(z.string().check(z.regex(/^\d{1,10}$/, SEED)), z.pipe(z.transform(Number), z.number().check(z.maximum(MAX_SEED, SEED)))))),
    format: field(z._default(requestedFormatSchema, DEFAULT_FORMAT)),
    start: field(z.optional(seconds().check(z.minimum(0, SECONDS)))),
    end: field(z.optional(seconds().check(z.positive('must be more than 0 seconds')))),
    keep: field(z.optional(z.pipe(z.transform((value: unknown) => (typeof value === 'string' ? value.trim().toLowerCase() : value)), keepSchema))),
    loudness: field(
      z.optional(
        z.union([z.literal(MATCH_LOUDNESS), z.coerce.number().check(z.minimum(LOUDNESS_RANGE.min, LOUDNESS), z.maximum(LOUDNESS_RANGE.max, LOUDNESS))], {
          error: LOUDNESS,
        }),
      ),
    ),
    intensity: field(z.optional(intensityFieldSchema)),
  })
  .check(
    z.refine((p) => isSectionOrdered(p.start, p.end), { message: 'must be before end', path: ['start'] }),
    z.refine((p) => p.end === undefined || !isSectionTooShort(p.start, p.end), {
      message: `must be at least ${MIN_SECTION_SECONDS} s after start (0 when not given): a shorter section has too little audio to enrich`,
      path: ['end'],
    }),
  );

/** What a job is asked to do: the enrich form, validated. */
export type EnrichParams = z.output<typeof enrichParamsSchema>;

/** `GET /api/jobs/:id/result?format=&part=`: the job's own format when none is asked for, the whole mix unless `part=layer`. */
export const resultQuerySchema = z.object({ format: z.optional(requestedFormatSchema), part: z.optional(resultPartSchema) });

export const RATINGS = ['up', 'down'] as const;
export type Rating = (typeof RATINGS)[number];
/** `POST /api/jobs/:id/feedback`. */
export const feedbackSchema = z.object({ rating: z.enum(RATINGS, { error: 'must be "up" or "down"' }) });

/** The first thing wrong with a request, as the 400 that says which field and why. */
export function invalidParameterOf(error: { issues: readonly z.core.$ZodIssue[] }): AppError {
  const issue = error.issues[0];
  return errors.invalidParameter(issue.path.join('.') || 'request', issue.message);
}

/** Validates fields into enrich parameters, or throws the first problem as INVALID_PARAMETER. */
export function parseEnrichParams(fields: unknown): EnrichParams {
  const parsed = enrichParamsSchema.safeParse(fields ?? {});
  if (!parsed.success) throw invalidParameterOf(parsed.error);
  return parsed.data;
}
