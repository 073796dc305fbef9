import { errors } from './errors.js';
import { thousandths } from './params.js';

/**
 * The `style` field's grammar: a style id (`rain`), a weighted mix (`rain:0.7,blues:0.3`, weights normalised
 * to sum to one) or `random`, a mix of two or three styles chosen by the seed.
 */
export const RANDOM_STYLE = 'random';

/** What a style id may be made of, in the manifest and in the `style` field. */
export const STYLE_ID = /^[a-z0-9-]+$/;

const MIX_PART = /^([a-z0-9-]+)(?::([0-9]*\.?[0-9]+))?$/;

/** A `style` field, read: the seeded random mix, or weights that sum to one (rounded to 1/1000, zeros left out). */
export type StyleChoice = { random: true } | { random: false; weights: Record<string, number> };

/**
 * Reads a `style` field, case and spaces aside. `known` are the style ids there are; an id outside them is
 * UNKNOWN_STYLE, a part that cannot be read, a style named twice or weights that are all 0 are BAD_STYLE_MIX.
 */
export function parseStyleSpec(spec: string, known: readonly string[]): StyleChoice {
  const text = spec.trim().toLowerCase();
  if (text === RANDOM_STYLE) return { random: true };
  const weights = new Map<string, number>();
  for (const part of text.split(',').map((p) => p.trim())) {
    const match = MIX_PART.exec(part);
    if (!match) throw errors.badStyleMix(`Cannot read "${part}" in style. Use an id like "rain" or a mix like "rain:0.7,blues:0.3".`);
    const [, id, weightText] = match;
    if (!known.includes(id)) throw errors.unknownStyle(id);
    if (weights.has(id)) throw errors.badStyleMix(`Style "${id}" appears twice in the mix.`);
    weights.set(id, weightText === undefined ? 1 : Number(weightText));
  }
  return { random: false, weights: normaliseWeights(weights) };
}

/**
 * Weights scaled to sum to one in thousandths, zeros left out; BAD_STYLE_MIX when none is above zero. The
 * thousandths are shared out by largest remainder so they sum to exactly one: then the canonical spec written
 * from them reads back to the same weights, and a job repeated from its echoed style makes the same bytes.
 */
export function normaliseWeights(weights: ReadonlyMap<string, number>): Record<string, number> {
  const total = [...weights.values()].reduce((a, b) => a + b, 0);
  if (!(total > 0) || [...weights.values()].some((w) => !Number.isFinite(w))) {
    throw errors.badStyleMix('Style weights must be numbers with at least one above zero.');
  }
  const exact = [...weights].filter(([, w]) => w > 0).map(([id, w]) => ({ id, thousandths: (w / total) * 1000 }));
  const shares = exact.map(({ thousandths }) => Math.floor(thousandths));
  let missing = 1000 - shares.reduce((a, b) => a + b, 0);
  for (const i of exact.map((_, i) => i).sort((a, b) => (exact[b].thousandths % 1) - (exact[a].thousandths % 1))) {
    if (missing <= 0) break;
    shares[i] += 1;
    missing -= 1;
  }
  return Object.fromEntries(exact.flatMap(({ id }, i) => (shares[i] > 0 ? [[id, shares[i] / 1000]] : [])));
}

/** The canonical `style` field for weights that sum to one: `rain` for one style, `rain:0.7,blues:0.3` for a mix. */
export function styleSpecOf(weights: Record<string, number>): string {
  const parts = Object.entries(weights).filter(([, w]) => w > 0);
  if (parts.length === 1) return parts[0][0];
  return parts.map(([id, w]) => `${id}:${thousandths(w)}`).join(',');
}
