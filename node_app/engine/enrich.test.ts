import { describe, expect, it } from 'vitest';
import { enrichPcm } from '../../test/helpers/engine.js';
import { EnrichStream, type EnrichOptions, type GeneratorBatch, type StyleGenerator } from './enrich.js';
import { LIMITER_CEILING } from './limiter.js';
import { concatPlanar, type Pcm } from './pcm.js';
import { channelKey, fillGaussianAt } from './random.js';
import { TextureReader, type Bank, type GrainSettings } from './texture.js';

const bank: Bank = {
  bed: [Int16Array.from({ length: 9000 }, (_, i) => Math.round(3000 * Math.sin(i / 7))), Int16Array.from({ length: 7000 }, (_, i) => Math.round(2000 * Math.cos(i / 3)))],
  events: [Int16Array.from({ length: 300 }, (_, i) => 8000 - 20 * i)],
  eventEvery: 2500,
};
const grains: GrainSettings = { segment: 2000, fade: 500, eventSpreadDb: 6, ownEventEvery: 3000 };

/** A test double that hands back its input, so overlap-add must reconstruct the music exactly. */
function echoGenerator(sampleRate = 44100, window = 1024, overlap = 256): StyleGenerator {
  return { sampleRate, window, overlap, generate: async ({ audio }: GeneratorBatch) => audio.map((a) => a.slice()) };
}

/** A test double whose layer is pure noise: the seed alone decides it. */
function noiseGenerator(): StyleGenerator {
  return {
    sampleRate: 44100,
    window: 1024,
    overlap: 256,
    generate: async ({ noise }: GeneratorBatch) => noise.map((n) => n.map((v) => v * 0.01)),
  };
}

function sine(length: number, sampleRate: number, frequency: number, gain = 0.25): Float32Array {
  return Float32Array.from({ length }, (_, i) => gain * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
}

function pcmOf(sampleRate: number, ...channels: Float32Array[]): Pcm {
  return { sampleRate, channels: channels.map((c) => c.slice()) };
}

const styleVector = Float32Array.of(1);

describe('enrichPcm', () => {
  it('reconstructs the input exactly through overlap-add when the model echoes it', async () => {
    const dry = sine(10_000, 44100, 440);
    const out = await enrichPcm(pcmOf(44100, dry), echoGenerator(), { amount: 0.5, styleVector, seed: 1 });
    const worst = Math.max(...out.channels[0].map((v, i) => Math.abs(v - 1.5 * dry[i])));
    expect(worst).toBeLessThan(1e-6);
  });

  it('leaves no seam at window borders: a constant layer stays constant', async () => {
    const constant: StyleGenerator = {
      ...echoGenerator(),
      generate: async ({ audio }) => audio.map((a) => new Float32Array(a.length).fill(0.2)),
    };
    const out = await enrichPcm(pcmOf(44100, new Float32Array(5000)), constant, { amount: 1, styleVector, seed: 3, batchSize: 3 });
    const worst = Math.max(...out.channels[0].map((v) => Math.abs(v - 0.2)));
    expect(worst).toBeLessThan(1e-6);
  });

  it('keeps length and channel count at a rate other than the model rate, with nothing dropped at the end', async () => {
    const left = sine(22050 + 17, 22050, 300);
    const right = sine(22050 + 17, 22050, 500);
    const out = await enrichPcm(pcmOf(22050, left, right), echoGenerator(), { amount: 1, styleVector, seed: 9 });
    expect(out.sampleRate).toBe(22050);
    expect(out.channels).toHaveLength(2);
    expect(out.channels[1]).toHaveLength(left.length);
    // The echo went through two linear resamplings, so the tail must be twice the input, give or take.
    const tail = out.channels[1].subarray(-100);
    const expected = right.subarray(-100);
    const worst = Math.max(...tail.map((v, i) => Math.abs(v - 2 * expected[i])));
    expect(worst).toBeLessThan(0.01);
  });

  it('returns the input untouched at amount 0', async () => {
    const dry = sine(3000, 48000, 1000, 0.99);
    const out = await enrichPcm(pcmOf(48000, dry), noiseGenerator(), { amount: 0, styleVector, seed: 5 });
    expect(out.channels[0]).toEqual(dry);
  });

  it('gives the same samples for the same seed and different ones for another seed', async () => {
    const dry = sine(6000, 44100, 200);
    const run = (seed: number, batchSize: number) =>
      enrichPcm(pcmOf(44100, dry, dry), noiseGenerator(), { amount: 1, styleVector, seed, batchSize });
    const a = await run(42, 2);
    const b = await run(42, 2);
    const c = await run(43, 2);
    expect(a.channels).toEqual(b.channels);
    expect(a.channels[0]).not.toEqual(c.channels[0]);
    expect(a.channels[0]).not.toEqual(a.channels[1]);
  });

  it('never lets a peak above the limiter ceiling, even when the layer is loud', async () => {
    const loud: StyleGenerator = { ...noiseGenerator(), generate: async ({ noise }) => noise.map((n) => n.slice()) };
    const out = await enrichPcm(pcmOf(44100, sine(8000, 44100, 100, 0.9)), loud, { amount: 1, styleVector, seed: 2 });
    const peak = Math.max(...out.channels[0].map(Math.abs));
    expect(peak).toBeLessThanOrEqual(LIMITER_CEILING);
    expect(out.channels[0].every(Number.isFinite)).toBe(true);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      enrichPcm(pcmOf(44100, new Float32Array(4000)), noiseGenerator(), { amount: 1, styleVector, seed: 1, signal: controller.signal }),
    ).rejects.toThrow();
  });
});

describe('layers across window borders', () => {
  const window = 4096;
  const overlap = 1024;
  const hop = window - overlap;

  /** Mean power of `layer` over blocks centred `distance` samples after each border-fade's middle. */
  function powerAt(layer: Float32Array, distance: number, block = 256): number {
    let sum = 0;
    let count = 0;
    for (let k = 1; (k + 1) * hop < layer.length; k++) {
      const centre = k * hop + overlap / 2 + distance;
      for (let t = centre - block / 2; t < centre + block / 2; t++) sum += layer[t] * layer[t];
      count += block;
    }
    return sum / count;
  }

  it('keeps a steady noise layer at one level through the cross-fades, however unrelated the windows are', async () => {
    let call = 0;
    // Each window invents its own noise, unrelated to its neighbours: a plain sin²/cos² fade would lose 3 dB mid-fade.
    const unrelated: StyleGenerator = {
      sampleRate: 44100, window, overlap,
      generate: async ({ audio }) => audio.map(() => fillGaussianAt(new Float32Array(window), channelKey(99, call++), 0).map((v) => 0.05 * v)),
    };
    const out = await enrichPcm(pcmOf(44100, new Float32Array(400_000)), unrelated, { amount: 1, styleVector, seed: 1 });
    const borderDb = 10 * Math.log10(powerAt(out.channels[0], 0) / powerAt(out.channels[0], hop / 2));
    expect(Math.abs(borderDb)).toBeLessThan(0.5);
  });

  it('drops what a model makes at the inner edges of its windows when it asks for a margin', async () => {
    const margin = 256;
    // A model that is right inside its window and wrong within `margin` of either edge, as one that cannot see
    // past its window may be.
    const edgy: StyleGenerator = {
      sampleRate: 44100, window, overlap, margin,
      generate: async ({ audio }) => audio.map((a) => a.map((v, t) => (t < margin || t >= window - margin ? -v : v))),
    };
    const dry = sine(20_000, 44100, 330);
    const out = await enrichPcm(pcmOf(44100, dry), edgy, { amount: 1, styleVector, seed: 1 });
    // The song's own first and last samples have no neighbour to take over; everything between is exact.
    const inner = out.channels[0].subarray(margin, dry.length - window);
    const worst = Math.max(...inner.map((v, i) => Math.abs(v - 2 * dry[i + margin])));
    expect(worst).toBeLessThan(1e-6);
  });

  it('feeds the model noise, beds and events that run on across windows, so shaping them leaves no seam', async () => {
    const shaped: StyleGenerator = {
      sampleRate: 44100, window, overlap, grains,
      generate: async ({ noise, texture, events }) => noise.map((n, b) => n.map((v, t) => 0.01 * v + (texture?.[b][t] ?? 0) + (events?.[b][t] ?? 0))),
    };
    const length = 30_000;
    const out = await enrichPcm(pcmOf(44100, new Float32Array(length)), shaped, { amount: 1, styleVector, seed: 5, batchSize: 2, banks: [bank] });
    const noise = fillGaussianAt(new Float32Array(length), channelKey(5, 0), 0);
    const reader = new TextureReader([bank], grains, styleVector, 5, 0);
    const bed = reader.fillBed(new Float32Array(length), 0);
    const events = reader.fillEvents(new Float32Array(length), 0);
    const worst = Math.max(...out.channels[0].map((v, i) => Math.abs(v - 0.01 * noise[i] - bed[i] - events[i])));
    expect(worst).toBeLessThan(1e-5);
  });

  it('gives each channel its own noise and its own draws from the bank', async () => {
    const seen: Float32Array[][] = [];
    const recorder: StyleGenerator = {
      sampleRate: 44100, window, overlap, grains,
      generate: async ({ noise, texture }) => {
        seen.push([noise[0].slice(), texture?.[0].slice() ?? new Float32Array(0)]);
        return noise.map(() => new Float32Array(window));
      },
    };
    await enrichPcm(pcmOf(44100, new Float32Array(window), new Float32Array(window)), recorder, { amount: 1, styleVector, seed: 8, banks: [bank] });
    const [[leftNoise, leftTexture], [rightNoise, rightTexture]] = seen;
    expect(leftTexture.some((v) => v !== 0)).toBe(true);
    expect(leftTexture).not.toEqual(rightTexture);
    expect(leftNoise).not.toEqual(rightNoise);
  });

  it("uses the user's own recording as the own style's bank", async () => {
    const seen: Float32Array[] = [];
    const recorder: StyleGenerator = {
      sampleRate: 44100, window, overlap, grains, ownStyle: 1,
      generate: async ({ noise, texture }) => {
        seen.push(texture?.[0].slice() ?? new Float32Array(0));
        return noise.map(() => new Float32Array(window));
      },
    };
    // A level the built-in bank never reaches: away from the joins the texture is exactly the recording.
    const ownTexture = new Int16Array(20_000).fill(12_000);
    await enrichPcm(pcmOf(44100, new Float32Array(window)), recorder, { amount: 1, styleVector: Float32Array.of(0, 1), seed: 8, banks: [bank, undefined], ownTexture });
    expect(seen[0].filter((v) => Math.abs(v - 12_000 / 32768) < 1e-6).length).toBeGreaterThan(window / 4);
    seen.length = 0;
    await enrichPcm(pcmOf(44100, new Float32Array(window)), recorder, { amount: 1, styleVector: Float32Array.of(0, 1), seed: 8, banks: [bank, undefined] });
    expect(seen[0].every((v) => v === 0)).toBe(true);
  });
});

describe('fillGaussianAt', () => {
  it('gives the same samples for a position whatever range it is read in, with unit variance', () => {
    const whole = fillGaussianAt(new Float32Array(20_001), 1234, 0);
    expect(fillGaussianAt(new Float32Array(777), 1234, 4321)).toEqual(whole.subarray(4321, 5098));
    const variance = whole.reduce((sum, v) => sum + v * v, 0) / whole.length;
    expect(variance).toBeGreaterThan(0.95);
    expect(variance).toBeLessThan(1.05);
  });
});

describe('EnrichStream', () => {
  /** Feeds `pcm` in slices of the given sizes (cycled) and gathers what comes out. */
  async function streamed(pcm: Pcm, generator: StyleGenerator, options: EnrichOptions, sizes: number[]): Promise<Float32Array[]> {
    const stream = new EnrichStream(pcm.sampleRate, pcm.channels.length, generator, options);
    const parts: Float32Array[][] = [];
    const length = pcm.channels[0].length;
    for (let from = 0, n = 0; from < length; n++) {
      const to = Math.min(length, from + sizes[n % sizes.length]);
      parts.push(await stream.push(pcm.channels.map((c) => c.subarray(from, to))));
      from = to;
    }
    parts.push(await stream.finish());
    return concatPlanar(parts, pcm.channels.length);
  }

  it.each([
    { rate: 44100, batchSize: 1, sizes: [1, 7, 999] },
    { rate: 48000, batchSize: 3, sizes: [4096, 13, 20_000] },
    { rate: 22050, batchSize: 4, sizes: [300] },
  ])('gives the same samples as the whole song at once, whatever the slices ($rate Hz, batch $batchSize)', async ({ rate, batchSize, sizes }) => {
    const left = sine(rate + 321, rate, 300, 0.9);
    const right = sine(rate + 321, rate, 170, 0.8);
    const options = { amount: 0.7, styleVector, seed: 77, batchSize };
    const whole = await enrichPcm(pcmOf(rate, left, right), noiseGenerator(), options);
    const parts = await streamed(pcmOf(rate, left, right), noiseGenerator(), options, sizes);
    expect(parts).toEqual(whole.channels);
  });

  it('holds a few windows, not the song, and hands back everything at the end', async () => {
    const rate = 44100;
    const options = { amount: 1, styleVector, seed: 1 };
    const stream = new EnrichStream(rate, 1, noiseGenerator(), options);
    let out = 0;
    for (let i = 0; i < 200; i++) out += (await stream.push([new Float32Array(1000)])).reduce((n, c) => Math.max(n, c.length), 0);
    // Four windows of 1024 plus the limiter's look-ahead is far under a second of the 200,000 samples pushed.
    expect(200_000 - out).toBeLessThan(rate);
    out += (await stream.finish())[0].length;
    expect(out).toBe(200_000);
  });
});
