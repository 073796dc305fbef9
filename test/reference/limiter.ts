/** -1 dBFS: leaves room for the inter-sample peaks that lossy encoders add. */
export const LIMITER_CEILING = 10 ** (-1 / 20);

/**
 * A look-ahead peak limiter, linked across channels so the stereo image does not move. The gain at each
 * sample is the mean of look-ahead minima that all include that sample, so it is never above what the sample
 * needs: peaks land at or under the ceiling without clipping, and the gain moves smoothly over `lookahead`
 * samples. Works in place with O(lookahead) extra memory.
 */
export function limitPeaksInPlace(channels: Float32Array[], lookahead: number, ceiling = LIMITER_CEILING): void {
  const length = channels[0]?.length ?? 0;
  if (length === 0) return;
  const span = Math.max(1, Math.min(lookahead, length));
  const needed = (i: number): number => {
    let peak = 0;
    for (const channel of channels) peak = Math.max(peak, Math.abs(channel[i]));
    return peak > ceiling ? ceiling / peak : 1;
  };

  // Monotonic deque of indices for the running minimum of `needed` over [j, j + span).
  const dequeIdx = new Int32Array(span + 1);
  const dequeVal = new Float64Array(span + 1);
  let head = 0;
  let size = 0;
  const at = (k: number): number => (head + k) % dequeIdx.length;

  // Samples before the start behave as if they needed the first window's gain, which keeps the opening
  // samples under the ceiling too.
  let opening = 1;
  for (let i = 0; i < span; i++) opening = Math.min(opening, needed(i));
  const ring = new Float64Array(span).fill(opening);
  let ringSum = opening * span;
  let ringPos = 0;

  for (let i = 0; i < length + span - 1; i++) {
    if (i < length) {
      const value = needed(i);
      while (size > 0 && dequeVal[at(size - 1)] >= value) size--;
      dequeIdx[at(size)] = i;
      dequeVal[at(size)] = value;
      size++;
    }
    const j = i - span + 1;
    if (j < 0) continue;
    while (dequeIdx[at(0)] < j) {
      head = (head + 1) % dequeIdx.length;
      size--;
    }
    ringSum += dequeVal[at(0)] - ring[ringPos];
    ring[ringPos] = dequeVal[at(0)];
    ringPos = (ringPos + 1) % span;
    const gain = Math.min(1, ringSum / span);
    for (const channel of channels) {
      // The clamp only catches float rounding in the running sum; the gain has already done the work.
      channel[j] = Math.max(-ceiling, Math.min(ceiling, channel[j] * gain));
    }
  }
}
