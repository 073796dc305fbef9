import { parseStyleSpec, styleSpecOf } from '../../../contract';

/**
 * A mix of styles as whole percentages that always sum to 100, as the Pro panel's sliders show it. The server
 * normalises weights itself; keeping the sum at 100 here is so that what a person reads is what they get.
 */
export type Mix = Record<string, number>;

/** Splits `amount` into whole numbers in proportion to `weights`, summing to exactly `amount` (largest remainder). */
function distribute(weights: Record<string, number>, amount: number): Mix {
  const entries = Object.entries(weights).filter(([, w]) => Number.isFinite(w) && w > 0);
  const sum = entries.reduce((acc, [, w]) => acc + w, 0);
  if (sum <= 0) return {};
  const exact = entries.map(([id, w]) => ({ id, share: (w / sum) * amount }));
  const shares = exact.map(({ id, share }) => [id, Math.floor(share)] as [string, number]);
  let missing = amount - shares.reduce((acc, [, p]) => acc + p, 0);
  const byRemainder = exact.map(({ share }, i) => ({ i, rest: share - Math.floor(share) })).sort((a, b) => b.rest - a.rest);
  for (const { i } of byRemainder) {
    if (missing <= 0) break;
    shares[i][1] += 1;
    missing -= 1;
  }
  return Object.fromEntries(shares);
}

/** Whole percentages for `weights`, summing to exactly 100. */
export function toPercentages(weights: Record<string, number>): Mix {
  return distribute(weights, 100);
}

/**
 * Sets one style's share and gives the rest to the others in proportion to what they had, so the sum stays
 * 100. The only style in the mix stays at 100: lowering it would have to hand its share to styles nobody
 * chose, and a mix needs one. Raising another slider is how to move away from it.
 */
export function setShare(mix: Mix, ids: readonly string[], id: string, percent: number): Mix {
  const value = Math.min(100, Math.max(0, Math.round(percent)));
  const others = ids.filter((other) => other !== id);
  const hadShares = others.some((other) => (mix[other] ?? 0) > 0);
  if (!hadShares) return Object.fromEntries(ids.map((each) => [each, each === id ? 100 : 0]));
  const weights = Object.fromEntries(others.map((other) => [other, mix[other] ?? 0]));
  const shares = distribute(weights, 100 - value);
  return Object.fromEntries(ids.map((each) => [each, each === id ? value : (shares[each] ?? 0)]));
}

export function total(mix: Mix): number {
  return Object.values(mix).reduce((sum, p) => sum + p, 0);
}

/** The API's `style` field: `rain` for one style, `rain:0.7,blues:0.3` for a mix. */
export function mixToSpec(mix: Mix): string {
  return styleSpecOf(Object.fromEntries(Object.entries(mix).map(([id, p]) => [id, p / 100])));
}

/** Reads a `style` field back into percentages; returns null when it is not a mix of known styles. */
export function specToMix(spec: string, known: readonly string[]): Mix | null {
  try {
    const choice = parseStyleSpec(spec, known);
    return choice.random ? null : toPercentages(choice.weights);
  } catch {
    return null;
  }
}

export function describeMix(mix: Mix, labelOf: (id: string) => string): string {
  const parts = Object.entries(mix).filter(([, p]) => p > 0);
  if (parts.length === 1) return labelOf(parts[0][0]);
  return parts.map(([id, p]) => `${labelOf(id)} ${p} %`).join(' + ');
}
