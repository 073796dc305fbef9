/**
 * Window layout for overlap-add: windows of `size` samples start every `size - overlap` samples, and
 * neighbours cross-fade over `overlap` samples with sin²/cos² ramps, which sum to exactly one: exact for what
 * the two windows share, while what differs between them is evened out by {@link overlapLevelGains}.
 */
export interface WindowPlan {
  size: number;
  overlap: number;
  /**
   * Samples at each inner edge of a window whose output is not used: the fade runs between them, over
   * `overlap - 2 * margin` samples. A model sees nothing past its window, so its output there can be wrong.
   */
  margin: number;
  hop: number;
  count: number;
}

export function planWindows(length: number, size: number, overlap: number, margin = 0): WindowPlan {
  if (!(overlap >= 0 && overlap < size)) throw new RangeError(`overlap ${overlap} must be in [0, ${size})`);
  if (!(margin >= 0 && (overlap === 0 ? margin === 0 : 2 * margin < overlap))) {
    throw new RangeError(`margin ${margin} must leave part of the overlap ${overlap} to fade over`);
  }
  const hop = size - overlap;
  const count = length <= size ? 1 : 1 + Math.ceil((length - size) / hop);
  return { size, overlap, margin, hop, count };
}

/** The weight of window `index` at `offset`; the first window has no fade-in and the last no fade-out. */
export function crossfadeWeights(plan: WindowPlan, index: number): Float32Array {
  const weights = new Float32Array(plan.size).fill(1);
  const { overlap, margin, hop } = plan;
  const ramp = overlap - 2 * margin;
  for (let t = 0; t < overlap; t++) {
    const phase = Math.min(1, Math.max(0, (t - margin + 0.5) / ramp));
    const rise = Math.sin((Math.PI / 2) * phase) ** 2;
    if (index > 0) weights[t] = rise;
    if (index < plan.count - 1) weights[hop + t] = 1 - rise;
  }
  return weights;
}

/**
 * The weights every window of a plan uses. Only the first, the last and a lone window differ from the rest,
 * so a song needs at most four arrays instead of one per window.
 */
export class CrossfadeSet {
  private readonly cache = new Map<string, Float32Array>();

  constructor(private readonly plan: WindowPlan) {}

  weights(index: number): Float32Array {
    const key = `${index === 0 ? 'first' : 'inner'}-${index === this.plan.count - 1 ? 'last' : 'inner'}`;
    let weights = this.cache.get(key);
    if (!weights) {
      weights = crossfadeWeights(this.plan, index);
      this.cache.set(key, weights);
    }
    return weights;
  }
}

/**
 * Gains for the overlap of two windows that keep the layer's level steady through the cross-fade. Ramps that
 * sum to one reconstruct what both windows hold in common exactly, but the power of what differs between them
 * (independent edge effects, events one window places and the other does not) falls by up to 3 dB in the
 * middle of the fade, which on a steady texture is heard as pumping at every border. With `rho` the two
 * windows' correlation over the overlap (clamped to [0, 1]) the mix has `a² + b² + 2·rho·a·b` of their power,
 * so dividing by its square root is exact for correlated layers (rho = 1: gain 1) and equal-power for
 * uncorrelated ones. `outgoing` and `incoming` are the raw window samples over the overlap, `rise` the
 * incoming ramp; non-finite samples count as silence, as the mix skips them too.
 */
export function overlapLevelGains(outgoing: Float32Array, incoming: Float32Array, rise: Float32Array, out: Float32Array): Float32Array {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let t = 0; t < out.length; t++) {
    // Only where both windows are heard: a margin's samples are dropped and say nothing about the mix.
    if (rise[t] <= 0 || rise[t] >= 1) continue;
    const x = Number.isFinite(outgoing[t]) ? outgoing[t] : 0;
    const y = Number.isFinite(incoming[t]) ? incoming[t] : 0;
    xy += x * y;
    xx += x * x;
    yy += y * y;
  }
  const rho = xx > 0 && yy > 0 ? Math.min(1, Math.max(0, xy / Math.sqrt(xx * yy))) : 1;
  for (let t = 0; t < out.length; t++) {
    const a = rise[t];
    const b = 1 - a;
    out[t] = 1 / Math.sqrt(a * a + b * b + 2 * rho * a * b);
  }
  return out;
}
