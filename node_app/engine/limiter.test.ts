import { describe, expect, it } from 'vitest';
import { LIMITER_CEILING, limitPeaksInPlace } from './limiter.js';

describe('limitPeaksInPlace', () => {
  it('brings every peak under the ceiling, from the very first sample', () => {
    const left = Float32Array.from({ length: 5000 }, (_, i) => (i % 97 === 0 ? 3 : Math.sin(i / 7)));
    const right = Float32Array.from({ length: 5000 }, (_, i) => (i === 0 ? -4 : 0.5 * Math.cos(i / 5)));
    limitPeaksInPlace([left, right], 64);
    expect(Math.max(...left.map(Math.abs), ...right.map(Math.abs))).toBeLessThanOrEqual(LIMITER_CEILING);
  });

  it('leaves quiet audio bit-exact', () => {
    const quiet = Float32Array.from({ length: 1000 }, (_, i) => 0.5 * Math.sin(i / 3));
    const copy = quiet.slice();
    limitPeaksInPlace([quiet], 32);
    expect(quiet).toEqual(copy);
  });

  it('moves the gain smoothly rather than clipping the peak', () => {
    const signal = new Float32Array(2000).fill(0.5);
    signal[1000] = 2;
    limitPeaksInPlace([signal], 100);
    const steps = signal.slice(850, 1000).map((v, i, all) => (i === 0 ? 0 : Math.abs(v - all[i - 1])));
    expect(Math.max(...steps)).toBeLessThan(0.01);
    expect(signal[1000]).toBeCloseTo(LIMITER_CEILING, 3);
  });
});
