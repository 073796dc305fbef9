import { z } from 'zod/mini';
import { outputFormatSchema } from './formats.js';
import { intensityTextSchema } from './intensity.js';
import { isSectionOrdered, keepSchema, loudnessTargetSchema, MAX_SEED } from './params.js';

/** The JSON that `GET /api/jobs/:id/recipe` answers and the web app's "Use a recipe" reads back. */
export const recipeSchema = z.object({
  app: z.literal('noise-enricher'),
  version: z.literal(1),
  style: z.string(),
  amount: z.number().check(z.minimum(0), z.maximum(1)),
  seed: z.int().check(z.minimum(0), z.maximum(MAX_SEED)),
  format: outputFormatSchema,
  start: z.optional(z.number().check(z.minimum(0))),
  end: z.optional(z.number().check(z.positive())),
  keep: z.optional(keepSchema),
  loudness: z.optional(loudnessTargetSchema),
  intensity: z.optional(intensityTextSchema),
  /** The name of the file the job enriched, as a reminder: the recipe holds no audio. */
  input: z.optional(z.string()),
  /** The style "own" needs the same recording again as `texture`: its name, and its SHA-256 to check it by. */
  texture: z.optional(z.string()),
  textureSha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
}).check(z.refine((r) => isSectionOrdered(r.start, r.end), { message: 'start must be before end', path: ['start'] }));
export type Recipe = z.infer<typeof recipeSchema>;
