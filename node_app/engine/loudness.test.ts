import { describe, expect, it } from 'vitest';
import { albumReading, firstLevellingPass, LevellingStage, LoudnessMeter, nextLevellingPass, type LoudnessReading } from './loudness.js';

const RATE = 48000;

function sine(seconds: number, amplitude: number, hz: number, phase = 0): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * RATE) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / RATE + phase));
}

function measure(channels: Float32Array[], slice = 4096): LoudnessReading {
  const meter = new LoudnessMeter(RATE, channels.length);
  for (let start = 0; start < channels[0].length; start += slice) meter.add(channels.map((c) => c.subarray(start, start + slice)));
  return meter.reading();
}

describe('LoudnessMeter', () => {
  it('reads EBU Tech 3341 case 1: a 1 kHz stereo sine at −23 dBFS is −23 LUFS', () => {
    const tone = sine(20, 10 ** (-23 / 20), 1000);
    const reading = measure([tone, tone]);
    expect(reading.integrated).toBeCloseTo(-23, 1);
  });

  it('gates out silence: a tone with as long a silence after it reads as the tone alone', () => {
    const tone = sine(10, 0.1, 1000);
    const withSilence = new Float32Array(tone.length * 2);
    withSilence.set(tone);
    expect(Math.abs(measure([withSilence]).integrated! - measure([tone]).integrated!)).toBeLessThan(0.1);
  });

  it('finds the peak between samples: a quarter-rate sine sampled at 45° peaks 3 dB over its samples', () => {
    const tone = sine(1, 0.5, RATE / 4, Math.PI / 4);
    const samplePeak = 20 * Math.log10(Math.max(...tone.map(Math.abs)));
    const { truePeak } = measure([tone]);
    expect(samplePeak).toBeCloseTo(20 * Math.log10(0.5) - 3.01, 1);
    expect(truePeak).toBeCloseTo(20 * Math.log10(0.5), 0);
    expect(truePeak!).toBeLessThanOrEqual(20 * Math.log10(0.5) + 0.1);
  });

  it('reads the same however the stream is sliced', () => {
    const tone = sine(3, 0.3, 440);
    expect(measure([tone], 100)).toEqual(measure([tone], 65536));
  });

  it('has no reading for silence or for less than one 400 ms block', () => {
    expect(measure([new Float32Array(RATE)])).toEqual({ integrated: null, truePeak: null });
    expect(measure([sine(0.3, 0.5, 1000)]).integrated).toBeNull();
  });
});

describe('levelling passes', () => {
  it('gains a quiet tone to the target and keeps its true peak under −1 dBTP', () => {
    const tone = [sine(5, 0.05, 1000)];
    const target = -14;
    let pass = firstLevellingPass(target, measure(tone));
    let reading = measure(tone);
    for (let n = 0; n < 5; n++) {
      const stage = new LevellingStage(RATE, 1, pass);
      const out = [...stage.push(tone)[0], ...stage.finish()[0]];
      reading = measure([Float32Array.from(out)]);
      const next = nextLevellingPass(target, pass, reading);
      if (!next) break;
      pass = next;
    }
    expect(Math.abs(reading.integrated! - target)).toBeLessThanOrEqual(0.4);
    expect(reading.truePeak!).toBeLessThanOrEqual(-1);
  });

  it('limits the peaks between samples, which a ceiling on the samples alone lets through', () => {
    // a quarter-rate sine sampled at 45°: its samples at −2 dBFS, under the ceiling; its true peak +1 dBTP
    const tone = sine(2, 10 ** (1 / 20), RATE / 4, Math.PI / 4);
    const stage = new LevellingStage(RATE, 1, { gainDb: 0, ceilingDb: -1.5 });
    const parts = [...[0, 1, 2, 3].map((k) => stage.push([tone.subarray(k * RATE / 2, (k + 1) * RATE / 2)])[0]), stage.finish()[0]];
    const out = Float32Array.from(parts.flatMap((part) => Array.from(part)));
    expect(out.length).toBe(tone.length);
    expect(measure([tone]).truePeak!).toBeGreaterThan(0.9);
    expect(measure([out]).truePeak!).toBeLessThanOrEqual(-1.4);
    // in step with the input (six samples late would flip this sine's sign): the same gain on every sample
    const gains = [RATE, RATE + 1, RATE + 2, RATE + 3].map((i) => out[i] / tone[i]);
    for (const gain of gains) expect(gain).toBeCloseTo(gains[0], 3);
    expect(gains[0]).toBeGreaterThan(0.5);
  });

  it('stops at once when the first pass lands', () => {
    const pass = firstLevellingPass(-20, { integrated: -26, truePeak: -12 });
    expect(pass.gainDb).toBeCloseTo(6);
    expect(nextLevellingPass(-20, pass, { integrated: -20.1, truePeak: -6 })).toBeNull();
  });
});

describe('albumReading', () => {
  /** A stereo 1 kHz tone of `seconds` at `dbfs` peak. */
  const tone = (seconds: number, dbfs: number): Float32Array[] => {
    const amplitude = 10 ** (dbfs / 20);
    const samples = Float32Array.from({ length: seconds * RATE }, (_, i) => amplitude * Math.sin((2 * Math.PI * 1000 * i) / RATE));
    return [samples, samples.slice()];
  };
  const measured = (chunk: Float32Array[]) => {
    const meter = new LoudnessMeter(RATE, 2);
    meter.add(chunk);
    return { ...meter.reading(), blocks: meter.blocks() };
  };

  it('reads an album of one song as that song', () => {
    const song = measured(tone(5, -12));
    expect(albumReading([song])).toEqual({ integrated: song.integrated, truePeak: song.truePeak });
  });

  it('reads the songs as one programme: as the meter reads them played one after the other, weighted by length', () => {
    const loud = tone(6, -10);
    const quiet = tone(3, -20);
    const together = new LoudnessMeter(RATE, 2);
    together.add(loud);
    together.add(quiet);
    const album = albumReading([measured(loud), measured(quiet)]);
    expect(album.integrated!).toBeCloseTo(together.reading().integrated!, 1);
    expect(album.truePeak).toBeCloseTo(measured(loud).truePeak!, 6);
    // Neither song's own loudness, nor their plain mean: the longer, louder one weighs more.
    expect(album.integrated!).toBeGreaterThan((measured(loud).integrated! + measured(quiet).integrated!) / 2);
    expect(album.integrated!).toBeLessThan(measured(loud).integrated!);
  });

  it('has no reading for an album of silence', () => {
    expect(albumReading([measured([new Float32Array(RATE), new Float32Array(RATE)])])).toEqual({ integrated: null, truePeak: null });
  });
});
