import { describe, expect, it } from 'vitest';
import { limitPeaksInPlace } from '../../test/helpers/engine.js';
import { LIMITER_CEILING, StreamingLimiter } from './limiter.js';

describe('StreamingLimiter over a whole song', () => {
  it('brings every peak under the ceiling, from the very first sample', async () => {
    const left = Float32Array.from({ length: 5000 }, (_, i) => (i % 97 === 0 ? 3 : Math.sin(i / 7)));
    const right = Float32Array.from({ length: 5000 }, (_, i) => (i === 0 ? -4 : 0.5 * Math.cos(i / 5)));
    await limitPeaksInPlace([left, right], 64);
    expect(Math.max(...left.map(Math.abs), ...right.map(Math.abs))).toBeLessThanOrEqual(LIMITER_CEILING);
  });

  it('leaves quiet audio bit-exact', async () => {
    const quiet = Float32Array.from({ length: 1000 }, (_, i) => 0.5 * Math.sin(i / 3));
    const copy = quiet.slice();
    await limitPeaksInPlace([quiet], 32);
    expect(quiet).toEqual(copy);
  });

  it('moves the gain smoothly rather than clipping the peak', async () => {
    const signal = new Float32Array(2000).fill(0.5);
    signal[1000] = 2;
    await limitPeaksInPlace([signal], 100);
    const steps = signal.slice(850, 1000).map((v, i, all) => (i === 0 ? 0 : Math.abs(v - all[i - 1])));
    expect(Math.max(...steps)).toBeLessThan(0.01);
    expect(signal[1000]).toBeCloseTo(LIMITER_CEILING, 3);
  });
});

describe('StreamingLimiter', () => {
  it.each([
    { length: 40, lookahead: 64, sizes: [1, 5] },
    { length: 5000, lookahead: 64, sizes: [1, 5, 300] },
    { length: 5000, lookahead: 1, sizes: [7] },
  ])('gives the samples of the whole-array limiter, however the input is sliced ($length samples, look-ahead $lookahead)', async ({ length, lookahead, sizes }) => {
    const source = [0, 1].map((c) => Float32Array.from({ length }, (_, i) => (i % 31 === c ? 2.5 : 0.8 * Math.sin(i / (4 + c)))));
    const whole = source.map((c) => c.slice());
    await limitPeaksInPlace(whole, lookahead);

    const limiter = new StreamingLimiter(2, lookahead);
    const out: number[][] = [[], []];
    const collect = (part: Float32Array[]) => part.forEach((c, i) => out[i].push(...c));
    for (let from = 0, n = 0; from < length; n++) {
      const to = Math.min(length, from + sizes[n % sizes.length]);
      collect(limiter.push(source.map((c) => c.subarray(from, to))));
      from = to;
    }
    collect(limiter.finish());
    expect(out.map((c) => Float32Array.from(c))).toEqual(whole);
  });
});
