/**
 * Linear interpolation between sample rates. It only ever touches the generated (wet) layer on its way to and
 * from the model's rate; the dry music is never resampled, so `amount = 0` stays bit-exact.
 */
export function sampleAt(source: Float32Array, position: number): number {
  const index = Math.floor(position);
  if (index < 0 || index >= source.length) return 0;
  const frac = position - index;
  const next = index + 1 < source.length ? source[index + 1] : 0;
  return source[index] + frac * (next - source[index]);
}

/** Reads `out.length` samples of `source` starting at `start`, stepping `step` source samples per output sample. */
export function readResampled(source: Float32Array, start: number, step: number, out: Float32Array): Float32Array {
  if (step === 1 && Number.isInteger(start)) {
    out.fill(0);
    const from = Math.max(0, start);
    const to = Math.min(source.length, start + out.length);
    if (to > from) out.set(source.subarray(from, to), from - start);
    return out;
  }
  for (let i = 0; i < out.length; i++) out[i] = sampleAt(source, (start + i) * step);
  return out;
}
