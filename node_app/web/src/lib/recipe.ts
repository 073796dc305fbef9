import { recipeSchema } from '../../../contract';
import { specToMix } from './mix';
import type { Settings } from './settings';

export class RecipeError extends Error {
  override name = 'RecipeError';
}

const NOT_A_RECIPE = 'This is not a Noise Enricher recipe. Use a file saved with "Download recipe".';

/** What to tell a person about the first field of a recipe that does not fit. */
const PROBLEMS: Record<string, string> = {
  amount: 'The recipe\'s amount must be a number from 0 to 1.',
  seed: 'The recipe\'s seed must be a whole number.',
  format: 'The recipe\'s format is not one this server writes.',
  start: 'The recipe\'s section must start at 0 s or later and before it ends.',
  end: 'The recipe\'s section must end after it starts.',
  keep: 'The recipe\'s keep must be "section" or "whole".',
  loudness: 'The recipe\'s loudness must be "match" or a level from −30 to −5 LUFS.',
  intensity: 'The recipe\'s intensity must be seconds:value points, times increasing, values from 0 to 1.',
};

/** Reads a recipe file (`GET /api/jobs/:id/recipe`); says what is wrong with it in words a person can act on. */
export function parseRecipe(text: string, knownStyles: readonly string[]): Settings {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new RecipeError('This is not a recipe: the file is not JSON. Use a file saved with "Download recipe".');
  }
  const parsed = recipeSchema.safeParse(data);
  if (!parsed.success) throw new RecipeError(PROBLEMS[String(parsed.error.issues[0].path[0])] ?? NOT_A_RECIPE);
  const { style, amount, seed, format, start, end, keep, loudness, intensity } = parsed.data;
  const mix = specToMix(style, knownStyles);
  if (!mix) throw new RecipeError(`The recipe's styles (${style}) are not available on this server.`);
  return { mix, surprise: false, amount, seed, format, start, end, keep, loudness, intensity };
}
