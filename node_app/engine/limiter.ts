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

  /** The gain sample i needs to stay under the ceiling; `views` are the pending queues' current views. */
  private needed(i: number, views: { data: Float32Array; offset: number }[]): number {
    let peak = 0;
    for (const { data, offset } of views) peak = Math.max(peak, Math.abs(data[i + offset]));
    return peak > this.ceiling ? this.ceiling / peak : 1;
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
    const views = this.pending.map((q) => q.view());
    for (let i = 0; i < span; i++) opening = Math.min(opening, this.needed(i, views));
    this.ring = new Float64Array(span).fill(opening);
    this.ringSum = opening * span;
  }

  /** Advances the input index to `until` (exclusive); past `received` only at the end, to drain the delay. */
  private run(until: number, draining: boolean): Float32Array[] {
    const { span, capacity, dequeIdx, dequeVal, ring, ceiling, received } = this;
    const firstOut = Math.max(0, this.next - span + 1);
    const lastOut = Math.max(firstOut, until - span + 1);
    const out = Array.from({ length: this.channelCount }, () => new Float32Array(lastOut - firstOut));
    const views = this.pending.map((q) => q.view());
    let { head, tail, ringSum, ringPos } = this;
    for (let i = this.next; i < until; i++) {
      if (i < received) {
        const value = this.needed(i, views);
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
      for (let c = 0; c < views.length; c++) {
        const { data, offset } = views[c];
        out[c][j - firstOut] = Math.max(-ceiling, Math.min(ceiling, data[j + offset] * gain));
      }
    }
    Object.assign(this, { head, tail, ringSum, ringPos, next: until });
    if (!draining) for (const q of this.pending) q.dropBefore(lastOut);
    return out;
  }
}
