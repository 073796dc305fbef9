/**
 * Seeded noise for the model. Every window gets its own stream derived from (seed, channel, window), so the
 * output does not depend on how windows are batched or in which order they run.
 */
export function windowSeed(seed: number, channel: number, window: number): number {
  let h = mix32(seed >>> 0);
  h = mix32(h ^ Math.imul(channel + 1, 0x9e3779b1));
  return mix32(h ^ Math.imul(window + 1, 0x85ebca6b));
}

/** Fills `out` with standard normal samples (Box–Muller over a mulberry32 stream). */
export function fillGaussian(out: Float32Array, seed: number): Float32Array {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  for (let i = 0; i < out.length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < out.length) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** A uniform integer in [0, 2^31) for seeds that the user did not choose. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
