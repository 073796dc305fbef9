/**
 * Seeded randomness for the model. Each channel of a song gets one noise stream, addressed by absolute
 * position at the model's rate: overlapping windows read the same samples where they overlap, so the noise
 * the model shapes is continuous across window borders (independent streams per window would make the
 * cross-fade blend two unrelated noises and lose up to 3 dB in the middle of every fade). Addressing by
 * position also keeps the output independent of how windows are batched or in which order they run.
 */
export function channelKey(seed: number, channel: number): number {
  return mix32(mix32(seed >>> 0) ^ Math.imul(channel + 1, 0x9e3779b1));
}

/** A 32-bit value drawn from (key, index): which recording, where in it and how loud, for segment or slot `index`. */
export function hashAt(key: number, index: number): number {
  return mix32(key ^ Math.imul(index + 1, 0x85ebca6b));
}

/**
 * Fills `out` with samples [position, position + out.length) of the standard normal stream `key`. Each sample
 * is one hash of its position turned into a normal value by the inverse of the normal CDF, read from a table
 * and interpolated: a hash and a lookup instead of Box–Muller's logarithm, square root, sine and cosine.
 */
export function fillGaussianAt(out: Float32Array, key: number, position: number): Float32Array {
  const table = INVERSE_CDF;
  for (let i = 0; i < out.length; i++) {
    const h = mix32(key ^ Math.imul(position + i, 0x27d4eb2f));
    // The top bits pick the bin, the rest place the sample inside it.
    const bin = h >>> FRACTION_BITS;
    const low = table[bin];
    out[i] = low + (h & FRACTION_MASK) * FRACTION_SCALE * (table[bin + 1] - low);
  }
  return out;
}

const TABLE_BITS = 12;
const FRACTION_BITS = 32 - TABLE_BITS;
const FRACTION_MASK = (1 << FRACTION_BITS) - 1;
const FRACTION_SCALE = 1 / (1 << FRACTION_BITS);
const INVERSE_CDF = inverseNormalTable(1 << TABLE_BITS);

/**
 * The normal quantile at k / bins for k = 0 … bins. The two ends, infinite in truth, are set so that each
 * outer bin has the mean of the normal tail it stands for: the tails end at about ±3.9 instead of going on,
 * which a model that consumes the noise through windows of 10^5 samples cannot tell.
 */
function inverseNormalTable(bins: number): Float64Array {
  const table = new Float64Array(bins + 1);
  for (let k = 1; k < bins; k++) table[k] = normalQuantile(k / bins);
  const edge = table[bins - 1];
  const tailMean = (bins * Math.exp(-0.5 * edge * edge)) / Math.sqrt(2 * Math.PI);
  table[bins] = 2 * tailMean - edge;
  table[0] = -table[bins];
  return table;
}

/** Acklam's rational approximation of the normal quantile (relative error under 1.2e-9, far below float32's). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
