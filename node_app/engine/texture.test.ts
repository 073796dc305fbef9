import { describe, expect, it } from 'vitest';
import { channelKey, fillGaussianAt } from './random.js';
import { bankFromRecording, normaliseRecording, TextureReader, type Bank, type GrainSettings } from './texture.js';

const rate = 8000;
const settings: GrainSettings = { segment: 5 * rate, fade: rate, eventSpreadDb: 6, ownEventEvery: 4 * rate };

/** White noise at −20 dBFS as 16-bit samples: any sample reused at two places shows as correlation. */
function noiseClip(seconds: number, key: number): Int16Array {
  return Int16Array.from(fillGaussianAt(new Float32Array(seconds * rate), key, 0), (v) => Math.round(v * 3277));
}

const bank: Bank = {
  bed: [noiseClip(8, 1), noiseClip(12, 2), noiseClip(9, 3), noiseClip(15, 4)],
  events: [Int16Array.from({ length: rate / 4 }, () => 20000), Int16Array.from({ length: rate }, (_, t) => (t % 2 ? 9000 : -9000))],
  eventEvery: 3 * rate,
};
const weights = Float32Array.of(1);

function correlation(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

describe('TextureReader', () => {
  it('gives each position the same bed and events however the stream is cut (windows, workers, sections)', () => {
    const reader = new TextureReader([bank], settings, weights, 42, 0);
    const start = 123_457;
    const bed = reader.fillBed(new Float32Array(20 * rate), start);
    const events = reader.fillEvents(new Float32Array(20 * rate), start);
    for (const [from, length] of [[0, 1], [3999, 40_000], [rate * 11 + 17, 777], [20 * rate - 1, 1]]) {
      expect(new TextureReader([bank], settings, weights, 42, 0).fillBed(new Float32Array(length), start + from)).toEqual(bed.subarray(from, from + length));
      expect(reader.fillEvents(new Float32Array(length), start + from)).toEqual(events.subarray(from, from + length));
    }
  });

  it('never loops: over ten minutes the bed does not correlate with itself at any lag from 3 s to 300 s', () => {
    const minutes = 10;
    const bed = new TextureReader([bank], settings, weights, 7, 0).fillBed(new Float32Array(minutes * 60 * rate), 0);
    const span = 60 * rate;
    let worst = 0;
    for (let lag = 3 * rate; lag <= 300 * rate; lag += Math.round(1.37 * rate)) {
      worst = Math.max(worst, Math.abs(correlation(bed.subarray(0, span), bed.subarray(lag, lag + span))));
    }
    // Random 5-s segments of a 44-s bank overlap a little by chance: ~0.03; a loop of any length gives ~1 at its period.
    expect(worst).toBeLessThan(0.1);
  });

  it('keeps the bed at the bank level through the equal-power joins', () => {
    const bed = new TextureReader([bank], settings, weights, 3, 1).fillBed(new Float32Array(120 * rate), 0);
    const rmsOver = (from: number, to: number) => Math.sqrt(bed.subarray(from, to).reduce((s, v) => s + v * v, 0) / (to - from));
    const whole = rmsOver(0, bed.length);
    expect(whole).toBeCloseTo(0.1, 2);
    // The middle of each join, where two unrelated segments meet, is as loud as the rest.
    const joins = Array.from({ length: 20 }, (_, j) => rmsOver((j + 1) * settings.segment + 0.4 * rate, (j + 1) * settings.segment + 0.6 * rate));
    const mean = joins.reduce((s, v) => s + v, 0) / joins.length;
    expect(20 * Math.log10(mean / whole)).toBeGreaterThan(-0.5);
  });

  it('drops one event per slot on average, at varied places, and channels and seeds differ', () => {
    const events = new TextureReader([bank], settings, weights, 11, 0).fillEvents(new Float32Array(300 * rate), 0);
    let onsets = 0;
    for (let i = 1; i < events.length; i++) if (events[i] !== 0 && events[i - 1] === 0) onsets++;
    expect(onsets).toBeGreaterThan(85);
    expect(onsets).toBeLessThan(110);
    const other = new TextureReader([bank], settings, weights, 11, 1).fillEvents(new Float32Array(300 * rate), 0);
    expect(other).not.toEqual(events);
  });

  it('weights a mix by the square roots of its weights, and leaves out styles without a bank', () => {
    const one = new TextureReader([bank, undefined], settings, Float32Array.of(1, 0), 5, 0).fillBed(new Float32Array(rate), 0);
    const mixed = new TextureReader([bank, undefined], settings, Float32Array.of(0.25, 0.75), 5, 0).fillBed(new Float32Array(rate), 0);
    expect(Array.from(mixed, (v, i) => v - 0.5 * one[i]).every((d) => Math.abs(d) < 1e-6)).toBe(true);
    expect(new TextureReader([undefined], settings, Float32Array.of(1), 5, 0).fillBed(new Float32Array(100), 0).every((v) => v === 0)).toBe(true);
  });
});

describe('a recording of the user as a bank', () => {
  it('brings it to the banks level and finds its loud moments as events', () => {
    const pcm = fillGaussianAt(new Float32Array(10 * 44100), channelKey(1, 0), 0).map((v) => 0.01 * v);
    for (const at of [2, 5.5, 8]) for (let i = 0; i < 4410; i++) pcm[Math.round(at * 44100) + i] += 0.5 * Math.sin(i / 5);
    const samples = normaliseRecording(pcm);
    const rms = Math.sqrt(samples.reduce((s, v) => s + (v / 32768) ** 2, 0) / samples.length);
    expect(rms).toBeCloseTo(0.1, 2);
    const own = bankFromRecording(samples, settings.ownEventEvery);
    expect(own.bed).toEqual([samples]);
    expect(own.events).toHaveLength(3);
    expect(normaliseRecording(new Float32Array(1000)).every((v) => v === 0)).toBe(true);
  });

  it('takes onsets as events, not the crest of a swell', () => {
    // a gust: the noise swells 14 dB over a second and holds; a pop: 20 ms that start at once
    const pcm = fillGaussianAt(new Float32Array(10 * 44100), channelKey(1, 0), 0).map((v, i) => {
      const t = i / 44100;
      return 0.01 * v * (t < 3 ? 1 : t < 4 ? 5 ** (t - 3) : t < 5 ? 5 : 1);
    });
    for (let i = 0; i < 882; i++) pcm[8 * 44100 + i] += 0.3 * Math.sin(i / 3);
    const samples = normaliseRecording(pcm);
    const own = bankFromRecording(samples, settings.ownEventEvery);
    expect(own.events).toHaveLength(1);
    // the event is cut from just before the pop: find where its (unfaded) samples sit in the recording
    const cut = own.events[0].subarray(64, 256);
    const from = Array.from({ length: 44100 }, (_, k) => 7 * 44100 + k).find((s) =>
      cut.every((v, i) => v === samples[s + 64 + i]),
    );
    expect(Math.abs((from ?? 0) / 44100 - 7.98)).toBeLessThan(0.03);
  });

  it('weaves a 3-s recording from short grains at many places rather than repeating it whole', () => {
    const short: Bank = { bed: [noiseClip(3, 9)], events: [], eventEvery: rate };
    const bed = new TextureReader([short], settings, weights, 2, 0).fillBed(new Float32Array(120 * rate), 0);
    const period = 3 * rate;
    expect(Math.abs(correlation(bed.subarray(0, 60 * rate), bed.subarray(period, period + 60 * rate)))).toBeLessThan(0.2);
  });
});
