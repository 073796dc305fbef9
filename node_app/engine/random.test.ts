import { describe, expect, it } from 'vitest';
import { channelKey, fillGaussianAt } from './random.js';

describe('fillGaussianAt', () => {
  it('gives each position the same sample however the stream is cut', () => {
    const key = channelKey(42, 1);
    const whole = fillGaussianAt(new Float32Array(10_000), key, 1000);
    for (const [from, length] of [
      [0, 1],
      [1, 3],
      [777, 4096],
      [9999, 1],
    ]) {
      expect(fillGaussianAt(new Float32Array(length), key, 1000 + from)).toEqual(whole.subarray(from, from + length));
    }
  });

  it('is standard normal: mean, variance, kurtosis and the 1-2-3 sigma shares', () => {
    const samples = fillGaussianAt(new Float32Array(1 << 21), channelKey(7, 0), 123);
    const n = samples.length;
    let sum = 0;
    let squares = 0;
    let fourths = 0;
    const within = [0, 0, 0];
    for (const v of samples) {
      sum += v;
      squares += v * v;
      fourths += v ** 4;
      for (let k = 0; k < 3; k++) if (Math.abs(v) < k + 1) within[k]++;
    }
    const variance = squares / n;
    expect(Math.abs(sum / n)).toBeLessThan(0.005);
    expect(variance).toBeCloseTo(1, 2);
    expect(fourths / n / variance ** 2).toBeCloseTo(3, 1);
    expect(within.map((w) => w / n)).toEqual([expect.closeTo(0.6827, 3), expect.closeTo(0.9545, 3), expect.closeTo(0.9973, 3)]);
  });

  it('gives channels and seeds streams that do not move together', () => {
    const a = fillGaussianAt(new Float32Array(1 << 16), channelKey(7, 0), 0);
    const b = fillGaussianAt(new Float32Array(1 << 16), channelKey(7, 1), 0);
    const c = fillGaussianAt(new Float32Array(1 << 16), channelKey(8, 0), 0);
    const correlation = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i], 0) / x.length;
    expect(Math.abs(correlation(a, b))).toBeLessThan(0.02);
    expect(Math.abs(correlation(a, c))).toBeLessThan(0.02);
    // Neighbouring samples of one stream are independent too.
    expect(Math.abs(correlation(a.subarray(1), a.subarray(0, -1)))).toBeLessThan(0.02);
  });
});
