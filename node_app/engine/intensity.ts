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
    if (this.scratch.length < length) this.scratch = new Float64Array(Math.max(length, 2 * this.scratch.length));
    const gains = this.scratch;
    const points = curve.points;
    const last = points.length - 1;
    let segment = segmentAt(points, (curve.firstFrame + from) / this.sampleRate);
    for (let k = 0; k < length; k++) {
      const seconds = (curve.firstFrame + from + k) / this.sampleRate;
      while (segment < last && seconds >= points[segment + 1][0]) segment++;
      gains[k] = this.amount * valueIn(points, segment, seconds);
    }
    return gains.subarray(0, length);
  }
}

/** The last point at or before `seconds` (0 before the first). */
function segmentAt(points: ReadonlyArray<readonly [number, number]>, seconds: number): number {
  let low = 0;
  let high = points.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (points[middle][0] <= seconds) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** The curve at `seconds`, which lies in `segment` (from its point to the next), or before the first point. */
function valueIn(points: ReadonlyArray<readonly [number, number]>, segment: number, seconds: number): number {
  const [t0, v0] = points[segment];
  if (seconds <= t0 || segment === points.length - 1) return v0;
  const [t1, v1] = points[segment + 1];
  return v0 + ((seconds - t0) / (t1 - t0)) * (v1 - v0);
}
