import { errors } from './errors.js';
import { thousandths } from './params.js';

/**
 * The `style` field's grammar: a style id (`rain`), a weighted mix (`rain:0.7,blues:0.3`, weights normalised
 * to sum to one; `rain,blues` without weights shares equally) or `random`, a mix of two or three styles chosen
 * by the seed. A mix gives weights to all of its styles or to none: `rain:0.7,blues` has no reading a person
 * would agree with, so it is refused.
 */
export const RANDOM_STYLE = 'random';

/** What a style id may be made of, in the manifest and in the `style` field. */
export const STYLE_ID = /^[a-z0-9-]+$/;

const MIX_PART = /^([a-z0-9-]+)(?::([0-9]*\.?[0-9]+))?$/;

/** A `style` field, read: the seeded random mix, or weights that sum to one (rounded to 1/1000, zeros left out). */
export type StyleChoice = { random: true } | { random: false; weights: Record<string, number> };

/**
 * Reads a `style` field, case and spaces aside. `known` are the style ids there are; an id outside them is
 * UNKNOWN_STYLE (naming the nearest id), a part that cannot be read, a style named twice, weights given to some
 * styles of a mix and not others, or weights that are all 0 are BAD_STYLE_MIX.
 */
export function parseStyleSpec(spec: string, known: readonly string[]): StyleChoice {
  const text = spec.trim().toLowerCase();
  if (text === RANDOM_STYLE) return { random: true };
  const weights = new Map<string, number>();
  const unweighted: string[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const match = MIX_PART.exec(part);
    if (!match) throw errors.badStyleMix(`Cannot read "${part}" in style. Use an id like "rain" or a mix like "rain:0.7,blues:0.3".`);
    const [, id, weightText] = match;
    if (!known.includes(id)) throw errors.unknownStyle(id, known, nearestStyle(id, known));
    if (weights.has(id)) throw errors.badStyleMix(`Style "${id}" appears twice in the mix.`);
    if (weightText === undefined) unweighted.push(id);
    weights.set(id, weightText === undefined ? 1 : Number(weightText));
  }
  if (unweighted.length > 0 && unweighted.length < weights.size) {
    throw errors.badStyleMix(
      `Give every style in the mix a weight or none: ${unweighted.map((id) => `"${id}"`).join(' and ')} ${unweighted.length > 1 ? 'have' : 'has'} none. Write "rain:0.7,blues:0.3", or "rain,blues" for equal shares.`,
    );
  }
  return { random: false, weights: normaliseWeights(weights) };
}

/**
 * The known id a mistyped or shortened one most likely meant: one that begins with it or that it begins with
 * ("thunder" → "thunderstorm"), else the closest by edit distance when it is close enough to be a typo.
 */
export function nearestStyle(id: string, known: readonly string[]): string | undefined {
  const byPrefix = known.find((k) => k.startsWith(id) || id.startsWith(k));
  if (byPrefix) return byPrefix;
  let best: { id: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(id, candidate);
    if (!best || distance < best.distance) best = { id: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(id.length / 3)) ? best.id : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
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
