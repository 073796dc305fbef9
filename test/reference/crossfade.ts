/**
 * Window layout for overlap-add: windows of `size` samples start every `size - overlap` samples, and
 * neighbours cross-fade over `overlap` samples with sin²/cos² ramps, which sum to exactly one.
 */
export interface WindowPlan {
  size: number;
  overlap: number;
  hop: number;
  count: number;
}

export function planWindows(length: number, size: number, overlap: number): WindowPlan {
  if (!(overlap >= 0 && overlap < size)) throw new RangeError(`overlap ${overlap} must be in [0, ${size})`);
  const hop = size - overlap;
  const count = length <= size ? 1 : 1 + Math.ceil((length - size) / hop);
  return { size, overlap, hop, count };
}

/** The weight of window `index` at `offset`; the first window has no fade-in and the last no fade-out. */
export function crossfadeWeights(plan: WindowPlan, index: number): Float32Array {
  const weights = new Float32Array(plan.size).fill(1);
  const { overlap, hop } = plan;
  for (let t = 0; t < overlap; t++) {
    const rise = Math.sin((Math.PI / 2) * ((t + 0.5) / overlap)) ** 2;
    if (index > 0) weights[t] = rise;
    if (index < plan.count - 1) weights[hop + t] = 1 - rise;
  }
  return weights;
}
