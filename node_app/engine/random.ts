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

/** A value in [0, modulus) drawn from (seed, channel, slot): where a channel starts reading a style's loop. */
export function seededOffset(seed: number, channel: number, slot: number, modulus: number): number {
  return mix32(channelKey(seed, channel) ^ Math.imul(slot + 1, 0x85ebca6b)) % modulus;
}

/**
 * Fills `out` with samples [position, position + out.length) of the standard normal stream `key`.
 * Samples come in Box–Muller pairs (2q, 2q + 1), each pair from two hashes of its index q.
 */
export function fillGaussianAt(out: Float32Array, key: number, position: number): Float32Array {
  const length = out.length;
  // An odd start takes the second half of the pair that the sample before it began.
  const first = position % 2;
  for (let i = -first; i < length; i += 2) {
    gaussianPair(key, (position + i) / 2);
    if (i >= 0) out[i] = pair[0];
    if (i + 1 < length) out[i + 1] = pair[1];
  }
  return out;
}

/** Box–Muller's two outputs for pair index q, written to a shared scratch so the hot loop allocates nothing. */
const pair = new Float64Array(2);

function gaussianPair(key: number, q: number): void {
  const h1 = mix32(key ^ Math.imul(2 * q + 1, 0x27d4eb2f));
  const h2 = mix32(h1 ^ 0x165667b1);
  const radius = Math.sqrt(-2 * Math.log((h1 + 0.5) / 4294967296));
  const angle = (2 * Math.PI * (h2 + 0.5)) / 4294967296;
  pair[0] = radius * Math.cos(angle);
  pair[1] = radius * Math.sin(angle);
}

function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
