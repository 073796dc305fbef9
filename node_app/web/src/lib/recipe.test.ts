import { describe, expect, it } from 'vitest';
import { parseRecipe, RecipeError } from './recipe';
import { settingsToFields } from './settings';

const STYLES = ['rain', 'blues', 'vinyl'];

/** As `GET /api/jobs/:id/recipe` writes it (node_app/server/routes/presenters.ts). */
const recipe = (fields: Record<string, unknown>) =>
  JSON.stringify({ app: 'noise-enricher', version: 1, style: 'rain', amount: 0.5, seed: 1, format: 'wav', input: 'song.mp3', ...fields });

describe('recipes', () => {
  it('repeat a job: a downloaded recipe becomes the same request fields', () => {
    const saved = { style: 'rain:0.7,blues:0.3', amount: 0.8, seed: 4242, format: 'mp3', start: 1.5, end: 9 };
    const fields = settingsToFields(parseRecipe(recipe(saved), STYLES));
    expect(fields).toEqual(saved);
  });

  it('keep a single style and the whole file when no section was cut', () => {
    const fields = settingsToFields(parseRecipe(recipe({ style: 'vinyl', amount: 0.25, seed: 0, format: 'ogg' }), STYLES));
    expect(fields).toEqual({ style: 'vinyl', amount: 0.25, seed: 0, format: 'ogg', start: undefined, end: undefined });
  });

  it('say what is wrong with a file that is not a usable recipe', () => {
    expect(() => parseRecipe('{ nope', STYLES)).toThrow(/not JSON/);
    expect(() => parseRecipe('{"style":"rain"}', STYLES)).toThrow(RecipeError);
    expect(() => parseRecipe(recipe({ style: 'thunder' }), STYLES)).toThrow(/not available/);
    expect(() => parseRecipe(recipe({ amount: 3 }), STYLES)).toThrow(/amount/);
  });
});
