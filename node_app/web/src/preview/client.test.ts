import { describe, expect, it } from 'vitest';
import { pickSection, sectionSamples, toStereo, type DecodedSong } from './client';

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

/** One frame of `count` channels holding 1, 2, 3 …, mixed to stereo: the left and right values. */
function mixedFrame(count: number, mask: number | null = null): number[] {
  const [left, right] = toStereo(
    Array.from({ length: count }, (_, c) => Float32Array.of(c + 1)),
    mask,
  );
  return [left[0], right[0]];
}

describe('a song of more than two channels', () => {
  // What the server's ffmpeg 5.1 gives (`ffmpeg -i in.wav -ac 2 -f f32le -`) for WAVs whose channels hold 1, 2, 3 …
  it("is mixed to stereo with ffmpeg's weights for the layout it takes the file to have", () => {
    expect(mixedFrame(6)[0]).toBeCloseTo(6.65685, 4); // 5.1: FL + √½·FC + √½·SL, the LFE left out
    expect(mixedFrame(6)[1]).toBeCloseTo(8.36396, 4);
    expect(mixedFrame(4)[0]).toBeCloseTo(5.12132, 4); // 4.0: FL + √½·FC + ½·BC
    expect(mixedFrame(8)[1]).toBeCloseTo(14.02081, 4); // 7.1
    expect(mixedFrame(3)).toEqual([1, 2]); // 2.1: the LFE left out
    // A WAV whose mask names 5.1 with side speakers is mixed the same as the default 5.1.
    expect(mixedFrame(6, 0x60f)[0]).toBeCloseTo(6.65685, 4);
  });

  it('is mixed as the server pans a layout ffmpeg cannot name: even channels averaged left, odd ones right', () => {
    const [left, right] = mixedFrame(9);
    expect(left).toBeCloseTo((1 + 3 + 5 + 7 + 9) / 5, 5);
    expect(right).toBeCloseTo((2 + 4 + 6 + 8) / 4, 5);
  });

  it('keeps one or two channels as they are', () => {
    const stereo = [Float32Array.of(0.5), Float32Array.of(-0.5)];
    expect(toStereo(stereo)).toBe(stereo);
  });
});
