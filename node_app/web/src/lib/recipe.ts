import { OUTPUT_FORMATS, type OutputFormat } from '../api';
import { specToMix } from './mix';
import type { Settings } from './settings';

/** The JSON that `GET /api/jobs/:id/recipe` answers and "Use a recipe" reads back. */
export interface Recipe {
  app: 'noise-enricher';
  version: 1;
  style: string;
  amount: number;
  seed: number;
  format: OutputFormat;
  start?: number;
  end?: number;
  input?: string;
}

export class RecipeError extends Error {
  override name = 'RecipeError';
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Reads a recipe file; says what is wrong with it in words a person can act on. */
export function parseRecipe(text: string, knownStyles: readonly string[]): Settings {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new RecipeError('This is not a recipe: the file is not JSON. Use a file saved with "Download recipe".');
  }
  if (typeof data !== 'object' || data === null || (data as { app?: unknown }).app !== 'noise-enricher') {
    throw new RecipeError('This is not a Noise Enricher recipe. Use a file saved with "Download recipe".');
  }
  const r = data as Record<string, unknown>;
  const mix = typeof r.style === 'string' ? specToMix(r.style, knownStyles) : null;
  if (!mix) throw new RecipeError(`The recipe's styles (${String(r.style)}) are not available on this server.`);
  if (!isNumber(r.amount) || r.amount < 0 || r.amount > 1) throw new RecipeError('The recipe\'s amount must be a number from 0 to 1.');
  if (!isNumber(r.seed) || !Number.isInteger(r.seed) || r.seed < 0) throw new RecipeError('The recipe\'s seed must be a whole number.');
  const format = OUTPUT_FORMATS.find((f) => f === r.format) ?? 'wav';
  const start = isNumber(r.start) && r.start >= 0 ? r.start : undefined;
  const end = isNumber(r.end) && r.end > (start ?? 0) ? r.end : undefined;
  return { mix, surprise: false, amount: r.amount, seed: r.seed, format, start, end };
}
