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
  // Mono and stereo get a second reference to the same array, so the per-sample work has no inner loop over
  // channels; taking the peak of a channel twice does not change it.
  const first = channels[0];
  const second = channels.length >= 2 ? channels[1] : first;
  const general = channels.length > 2;
  const needed = (i: number): number => {
    let peak = Math.max(0, Math.abs(first[i]));
    peak = Math.max(peak, Math.abs(second[i]));
    if (general) for (let c = 2; c < channels.length; c++) peak = Math.max(peak, Math.abs(channels[c][i]));
    return peak > ceiling ? ceiling / peak : 1;
  };

  // Monotonic deque of indices for the running minimum of `needed` over [j, j + span): a ring from `head` to
  // `tail` (exclusive). It holds up to span + 1 entries just before the oldest is dropped, and one slot more
  // keeps a full ring distinguishable from an empty one.
  const capacity = span + 2;
  const dequeIdx = new Int32Array(capacity);
  const dequeVal = new Float64Array(capacity);
  let head = 0;
  let tail = 0;

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
      while (tail !== head) {
        const last = tail === 0 ? capacity - 1 : tail - 1;
        if (dequeVal[last] < value) break;
        tail = last;
      }
      dequeIdx[tail] = i;
      dequeVal[tail] = value;
      tail = tail + 1 === capacity ? 0 : tail + 1;
    }
    const j = i - span + 1;
    if (j < 0) continue;
    while (dequeIdx[head] < j) head = head + 1 === capacity ? 0 : head + 1;
    const minimum = dequeVal[head];
    ringSum += minimum - ring[ringPos];
    ring[ringPos] = minimum;
    ringPos = ringPos + 1 === span ? 0 : ringPos + 1;
    const gain = Math.min(1, ringSum / span);
    // The clamp only catches float rounding in the running sum; the gain has already done the work.
    first[j] = Math.max(-ceiling, Math.min(ceiling, first[j] * gain));
    if (second !== first) second[j] = Math.max(-ceiling, Math.min(ceiling, second[j] * gain));
    if (general) {
      for (let c = 2; c < channels.length; c++) channels[c][j] = Math.max(-ceiling, Math.min(ceiling, channels[c][j] * gain));
    }
  }
}
