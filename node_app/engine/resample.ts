import type { SampleQueue } from './sample-queue.js';

// Linear interpolation between sample rates. It only ever touches the generated (wet) layer on its way to and
// from the model's rate; the dry music is never resampled, so `amount = 0` stays bit-exact.

/**
 * Reads `out.length` samples starting at `start`, stepping `step` source samples per output sample, from a
 * queue that holds part of a stream: `length` is how many samples the stream has (reads past it see silence),
 * and the queue must still hold every sample the read touches below that.
 */
export function readResampledFrom(source: SampleQueue, length: number, start: number, step: number, out: Float32Array): Float32Array {
  const { data, offset } = source.view();
  if (step === 1 && Number.isInteger(start)) {
    out.fill(0);
    const from = Math.max(0, start);
    const to = Math.min(length, start + out.length);
    if (to > from) out.set(data.subarray(from + offset, to + offset), from - start);
    return out;
  }
  for (let i = 0; i < out.length; i++) {
    const position = (start + i) * step;
    const index = Math.floor(position);
    if (index < 0 || index >= length) {
      out[i] = 0;
      continue;
    }
    const frac = position - index;
    const current = data[index + offset];
    const next = index + 1 < length ? data[index + 1 + offset] : 0;
    out[i] = current + frac * (next - current);
  }
  return out;
}

/** A whole recording brought from rate `from` to rate `to` by linear interpolation (the own style's recording). */
export function resampleLinear(pcm: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return pcm;
  const step = from / to;
  const out = new Float32Array(Math.floor(pcm.length / step));
  for (let i = 0; i < out.length; i++) {
    const position = i * step;
    const index = Math.floor(position);
    const next = index + 1 < pcm.length ? pcm[index + 1] : 0;
    out[i] = pcm[index] + (position - index) * (next - pcm[index]);
  }
  return out;
}
