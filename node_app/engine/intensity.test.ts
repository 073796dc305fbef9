import { describe, expect, it } from 'vitest';
import { enrichPcm } from '../../test/helpers/engine.js';
import { EnrichStream, MixStream, type EnrichOptions, type GeneratorBatch, type StyleGenerator } from './enrich.js';
import { LayerGains } from './intensity.js';

/** A layer of 0.1 everywhere: the mix minus the dry music is then 0.1 · amount · intensity, sample by sample. */
const constantLayer: StyleGenerator = {
  sampleRate: 1000,
  window: 256,
  overlap: 64,
  generate: async ({ audio }: GeneratorBatch) => audio.map((a) => new Float32Array(a.length).fill(0.1)),
};
const styleVector = Float32Array.of(1);

describe('LayerGains', () => {
  it('is linear between points and held before the first and after the last, by song time', () => {
    const gains = new LayerGains(0.5, 10, { points: [[1, 0], [2, 1], [3, 0.4]], firstFrame: 0 });
    const values = Array.from(gains.range(0, 40) ?? []);
    expect(values.slice(0, 11)).toEqual(Array(11).fill(0));
    expect(values[15]).toBeCloseTo(0.25, 12);
    expect(values[20]).toBeCloseTo(0.5, 12);
    expect(values[25]).toBeCloseTo(0.35, 12);
    expect(values.slice(30)).toEqual(Array(10).fill(0.2));
  });

  it('reads the same value for a frame whatever range it is asked in, and counts from the stream\'s first song frame', () => {
    const curve = { points: [[0, 0], [3.7, 1], [4, 0.3]] as const, firstFrame: 0 };
    const whole = Array.from(new LayerGains(0.8, 10, curve).range(0, 50) ?? []);
    const pieces = new LayerGains(0.8, 10, curve);
    const joined = [0, 7, 31, 38, 50].flatMap((from, i, all) => (i + 1 < all.length ? Array.from(pieces.range(from, all[i + 1]) ?? []) : []));
    expect(joined).toEqual(whole);
    const section = Array.from(new LayerGains(0.8, 10, { ...curve, firstFrame: 20 }).range(0, 30) ?? []);
    expect(section).toEqual(whole.slice(20));
  });

  it('asks for no gains at all without a curve, so such a mix uses `amount` as before', () => {
    expect(new LayerGains(0.5, 10, undefined).range(0, 10)).toBeNull();
  });
});

describe('the intensity curve in the mix', () => {
  const dry = () => [Float32Array.from({ length: 6000 }, (_, i) => 0.2 * Math.sin(i / 9))];
  const points = [[1, 0], [3, 1], [5, 0.5]] as const;

  it('scales the layer by song time: untouched where it is 0, the whole amount where it is 1', async () => {
    const input = dry();
    const out = await enrichPcm({ sampleRate: 1000, channels: dry() }, constantLayer, { amount: 0.6, styleVector, seed: 1, intensity: { points, firstFrame: 0 } });
    const added = out.channels[0].map((v, i) => v - input[0][i]);
    expect(Math.max(...added.subarray(0, 1000).map(Math.abs))).toBe(0);
    expect(added[2000]).toBeCloseTo(0.03, 6);
    expect(added[3000]).toBeCloseTo(0.06, 6);
    expect(added[5500]).toBeCloseTo(0.03, 6);
  });

  it('gives a section the same samples as the same stretch of the whole song', async () => {
    const layerOf = async (from: number) => {
      const stream = new EnrichStream(1000, 1, constantLayer, { amount: 1, styleVector, seed: 2, intensity: { points, firstFrame: from } });
      const silent = [new Float32Array(6000 - from)];
      const head = await stream.push(silent);
      const tail = await stream.finish();
      return Float32Array.from([...head[0], ...tail[0]]);
    };
    const whole = await layerOf(0);
    const section = await layerOf(2500);
    // The layer is constant (up to the cross-fades' float rounding), so only the curve could tell the two apart.
    const worst = Math.max(...section.map((v, i) => Math.abs(v - whole[2500 + i])));
    expect(worst).toBeLessThan(1e-6);
    expect(section[500]).toBeCloseTo(0.1, 6);
  });

  it('gives the same samples whatever the slices, and when the channels are mixed by separate streams (two workers)', async () => {
    const noisy: StyleGenerator = { ...constantLayer, generate: async ({ noise }: GeneratorBatch) => noise.map((n) => n.map((v) => 0.05 * v)) };
    const options: EnrichOptions = { amount: 0.8, styleVector, seed: 4, intensity: { points, firstFrame: 700 } };
    const song = () => [Float32Array.from({ length: 6000 }, (_, i) => 0.2 * Math.sin(i / 9)), Float32Array.from({ length: 6000 }, (_, i) => 0.1 * Math.cos(i / 5))];
    const mixed = async (stream: MixStream, channels: Float32Array[], slice: number) => {
      const parts: Float32Array[][] = [];
      for (let from = 0; from < channels[0].length; from += slice) parts.push(await stream.push(channels.map((c) => c.slice(from, from + slice))));
      parts.push(await stream.finish());
      return channels.map((_, c) => Float32Array.from(parts.flatMap((part) => Array.from(part[c]))));
    };
    const together = await mixed(new MixStream(1000, [0, 1], noisy, options), song(), 6000);
    const sliced = await mixed(new MixStream(1000, [0, 1], noisy, options), song(), 377);
    const left = await mixed(new MixStream(1000, [0], noisy, options), [song()[0]], 1000);
    const right = await mixed(new MixStream(1000, [1], noisy, options), [song()[1]], 613);
    expect(sliced).toEqual(together);
    expect([left[0], right[0]]).toEqual(together);
    // The curve is 0 before 1 s of the song, which is the stream's first 300 frames: the music alone there.
    expect(Array.from(together[0].subarray(0, 300))).toEqual(Array.from(song()[0].subarray(0, 300)));
    expect(together[0][2000]).not.toBe(song()[0][2000]);
  });
});

describe('LayerGains at segment borders', () => {
  it('gives a frame on a point the same value from every range, at rates where time · rate is not exact', () => {
    const points = [[0, 0.2], [0.1, 1], [1 / 3, 0.4], [0.7, 0.9]] as const;
    for (const rate of [44100, 48000, 22050, 11025]) {
      const whole = Array.from(new LayerGains(0.7, rate, { points, firstFrame: 0 }).range(0, rate) ?? []);
      for (const [time] of points) {
        const frame = Math.ceil(time * rate);
        for (const from of [frame - 1, frame, frame + 1].filter((f) => f >= 0)) {
          const piece = new LayerGains(0.7, rate, { points, firstFrame: 0 }).range(from, from + 3) ?? new Float64Array(0);
          expect(Array.from(piece)).toEqual(whole.slice(from, from + 3));
        }
      }
    }
  });
});
