/**
 * An intensity curve in the song's own time: `[seconds, value]` points, linear between them and held before the
 * first and after the last. `firstFrame` is the song frame a stream's first sample is (a section's start), so a
 * section, a window or a worker's slice of the song reads the same value at the same moment of the song.
 */
export interface IntensityCurve {
  points: ReadonlyArray<readonly [number, number]>;
  firstFrame: number;
}

/**
 * `amount · intensity` per frame of a stream at `sampleRate`: the gain the generated layer is mixed in with.
 * Without a curve, `amount` itself (as a double, so a job without a curve mixes exactly as before).
 */
export class LayerGains {
  private scratch = new Float64Array(0);
  /** The range last asked for: every channel of a stream asks for the same one in turn. */
  private last = { from: -1, to: -1 };

  constructor(
    private readonly amount: number,
    private readonly sampleRate: number,
    private readonly curve: IntensityCurve | undefined,
  ) {}

  /** The gains of the stream's frames [from, to), at index 0 on; null when every frame has `amount`. */
  range(from: number, to: number): Float64Array | null {
    const curve = this.curve;
    if (!curve || curve.points.length === 0) return null;
    const length = Math.max(0, to - from);
    if (from === this.last.from && to === this.last.to) return this.scratch.subarray(0, length);
    if (this.scratch.length < length) this.scratch = new Float64Array(Math.max(length, 2 * this.scratch.length));
    const gains = this.scratch;
    const points = curve.points;
    const last = points.length - 1;
    const secondsPerFrame = 1 / this.sampleRate;
    const first = curve.firstFrame + from;
    let k = 0;
    // Segment by segment: each frame's value depends only on its own place in the song, never on where a range began.
    for (let segment = segmentAt(points, first, this.sampleRate); k < length; segment++) {
      const [t0, v0] = points[segment];
      const next = segment < last ? points[segment + 1] : null;
      const end = next ? Math.min(length, Math.ceil(next[0] * this.sampleRate) - first) : length;
      if (!next) {
        gains.fill(this.amount * v0, k, length);
        break;
      }
      const slope = (next[1] - v0) / (next[0] - t0);
      for (; k < end; k++) {
        const seconds = (first + k) * secondsPerFrame;
        gains[k] = this.amount * (seconds <= t0 ? v0 : v0 + (seconds - t0) * slope);
      }
    }
    this.last = { from, to };
    return gains.subarray(0, length);
  }
}

/**
 * The segment `frame` lies in: the last point whose first frame, `ceil(time · rate)`, is at or before it (0 before
 * the first point). The same integer test as the segment ends in {@link LayerGains.range}, so a frame falls in the
 * same segment whichever range it is reached from.
 */
function segmentAt(points: ReadonlyArray<readonly [number, number]>, frame: number, sampleRate: number): number {
  let low = 0;
  let high = points.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (Math.ceil(points[middle][0] * sampleRate) <= frame) low = middle;
    else high = middle - 1;
  }
  return low;
}
