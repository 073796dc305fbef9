import { SampleQueue } from './sample-queue.js';

/** -1 dBFS: leaves room for the inter-sample peaks that lossy encoders add. */
export const LIMITER_CEILING = 10 ** (-1 / 20);

/**
 * A look-ahead peak limiter, linked across channels so the stereo image does not move. The gain at each
 * sample is the mean of look-ahead minima that all include that sample, so it is never above what the sample
 * needs: peaks land at or under the ceiling without clipping, and the gain moves smoothly over `lookahead`
 * samples. It runs over a stream: `push` takes planar slices and returns the samples that are final, which
 * trail the input by the look-ahead; `finish` returns the rest. Memory is O(lookahead + slice), not O(song).
 */
export class StreamingLimiter {
  private readonly pending: SampleQueue[];
  private received = 0;
  /** Next input index to enter the running minimum. */
  private next = 0;
  private span = 0;
  private capacity = 0;
  // Monotonic deque of indices for the running minimum of `needed` over [j, j + span): a ring from `head` to
  // `tail` (exclusive). It holds up to span + 1 entries just before the oldest is dropped, and one slot more
  // keeps a full ring distinguishable from an empty one.
  private dequeIdx = new Int32Array(0);
  private dequeVal = new Float64Array(0);
  private head = 0;
  private tail = 0;
  private ring = new Float64Array(0);
  private ringSum = 0;
  private ringPos = 0;

  constructor(
    private readonly channelCount: number,
    private readonly lookahead: number,
    private readonly ceiling = LIMITER_CEILING,
  ) {
    this.pending = Array.from({ length: channelCount }, () => new SampleQueue());
  }

  push(chunk: Float32Array[]): Float32Array[] {
    for (let c = 0; c < this.channelCount; c++) this.pending[c].append(chunk[c]);
    this.received += chunk[0]?.length ?? 0;
    // The opening gain looks at the first `lookahead` samples, so nothing leaves before they have arrived.
    if (this.span === 0 && this.received >= Math.max(1, this.lookahead)) this.begin();
    return this.span === 0 ? this.empty() : this.run(this.received, false);
  }

  finish(): Float32Array[] {
    if (this.received === 0) return this.empty();
    if (this.span === 0) this.begin();
    return this.run(this.received + this.span - 1, true);
  }

  private empty(): Float32Array[] {
    return Array.from({ length: this.channelCount }, () => new Float32Array(0));
  }

  /** The gain each of samples [from, from + count) needs to stay under the ceiling, from the pending queues' views. */
  private needed(from: number, count: number, views: { data: Float32Array; offset: number }[]): Float64Array {
    const peaks = new Float64Array(count);
    for (const { data, offset } of views) {
      const at = from + offset;
      for (let k = 0; k < count; k++) peaks[k] = Math.max(peaks[k], Math.abs(data[at + k]));
    }
    const { ceiling } = this;
    for (let k = 0; k < count; k++) peaks[k] = peaks[k] > ceiling ? ceiling / peaks[k] : 1;
    return peaks;
  }

  private begin(): void {
    const span = Math.max(1, Math.min(this.lookahead, this.received));
    this.span = span;
    this.capacity = span + 2;
    this.dequeIdx = new Int32Array(this.capacity);
    this.dequeVal = new Float64Array(this.capacity);
    // Samples before the start behave as if they needed the first window's gain, which keeps the opening
    // samples under the ceiling too.
    let opening = 1;
    for (const value of this.needed(0, span, this.pending.map((q) => q.view()))) opening = Math.min(opening, value);
    this.ring = new Float64Array(span).fill(opening);
    this.ringSum = opening * span;
  }

  /**
   * Advances the input index to `until` (exclusive); past `received` only at the end, to drain the delay. Three
   * passes: the gain each new sample needs, the running minimum and mean that give each finished sample its gain,
   * then each channel times its gains.
   */
  private run(until: number, draining: boolean): Float32Array[] {
    const { span, capacity, dequeIdx, dequeVal, ring, ceiling, received } = this;
    const firstOut = Math.max(0, this.next - span + 1);
    const lastOut = Math.max(firstOut, until - span + 1);
    const views = this.pending.map((q) => q.view());
    const from = this.next;
    const needed = this.needed(from, Math.max(0, Math.min(until, received) - from), views);
    const gains = new Float64Array(lastOut - firstOut);
    let { head, tail, ringSum, ringPos } = this;
    for (let i = from; i < until; i++) {
      if (i < received) {
        const value = needed[i - from];
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
      gains[j - firstOut] = Math.min(1, ringSum / span);
    }
    Object.assign(this, { head, tail, ringSum, ringPos, next: until });
    // The clamp only catches float rounding in the running sum; the gain has already done the work.
    const out = views.map(({ data, offset }) => {
      const channel = new Float32Array(gains.length);
      const at = firstOut + offset;
      for (let k = 0; k < gains.length; k++) channel[k] = Math.max(-ceiling, Math.min(ceiling, data[at + k] * gains[k]));
      return channel;
    });
    if (!draining) for (const q of this.pending) q.dropBefore(lastOut);
    return out;
  }
}
