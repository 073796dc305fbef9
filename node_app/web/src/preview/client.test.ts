import { describe, expect, it } from 'vitest';
import { pickSection, sectionSamples, type DecodedSong } from './client';

const RATE = 8000;

/** `seconds` of quiet tone, with a pulsing loud stretch from `livelyFrom` for `livelyFor` seconds. */
function song(seconds: number, livelyFrom: number, livelyFor: number): DecodedSong {
  const samples = new Float32Array(seconds * RATE);
  for (let i = 0; i < samples.length; i++) {
    const t = i / RATE;
    const lively = t >= livelyFrom && t < livelyFrom + livelyFor;
    samples[i] = (lively ? 0.5 * (0.5 + 0.5 * Math.cos(2 * Math.PI * 3 * t)) ** 4 : 0.05) * Math.sin(2 * Math.PI * 200 * t);
  }
  return { sampleRate: RATE, channels: [samples] };
}

describe('the preview section', () => {
  it('is the liveliest ten seconds, on a half-second grid', () => {
    expect(pickSection(song(40, 23, 10), {})).toEqual({ start: 23, end: 33 });
    expect(pickSection(song(40, 12.5, 10), {})).toEqual({ start: 12.5, end: 22.5 });
  });

  it('is the whole song when it is ten seconds or less, and the chosen section (its first ten seconds) when there is one', () => {
    expect(pickSection(song(7, 2, 3), {})).toEqual({ start: 0, end: 7 });
    expect(pickSection(song(40, 23, 10), { start: 3, end: 30 })).toEqual({ start: 3, end: 13 });
    expect(pickSection(song(40, 23, 10), { start: 35 })).toEqual({ start: 35, end: 40 });
  });

  it('is cut as the server cuts a WAV: from round(start · rate) to round(end · rate), within the song', () => {
    const decoded = { sampleRate: 3, channels: [Float32Array.from({ length: 30 }, (_, i) => i)] };
    expect(Array.from(sectionSamples(decoded, { start: 0.5, end: 2.5 })[0])).toEqual([2, 3, 4, 5, 6, 7]);
    expect(sectionSamples(decoded, { start: 8, end: 12 })[0].length).toBe(6);
  });
});
