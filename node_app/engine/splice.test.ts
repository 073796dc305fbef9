import { describe, expect, it } from 'vitest';
import { spliceSection } from './splice.js';

/** A stereo song of `frames` frames whose samples count up, cut into slices of `size`. */
async function* song(frames: number, size: number): AsyncGenerator<Float32Array[]> {
  for (let start = 0; start < frames; start += size) {
    const length = Math.min(size, frames - start);
    yield [0, 1].map((c) => Float32Array.from({ length }, (_, i) => (start + i) / 1000 + c));
  }
}

/** A model that reads everything before it answers (as a worker may read ahead), adds 10 and takes the buffers. */
async function* plusTen(chunks: AsyncIterable<Float32Array[]>): AsyncGenerator<Float32Array[]> {
  const seen: Float32Array[][] = [];
  for await (const chunk of chunks) seen.push(chunk);
  for (const chunk of seen) {
    const answer = chunk.map((channel) => channel.map((v) => v + 10));
    // What a transfer to a worker does to the slice it was given.
    chunk.forEach((channel) => structuredClone(channel.buffer, { transfer: [channel.buffer] }));
    yield answer;
  }
}

async function collect(stream: AsyncIterable<Float32Array[]>): Promise<Float32Array[]> {
  const channels: number[][] = [[], []];
  for await (const chunk of stream) chunk.forEach((channel, c) => channels[c].push(...channel));
  return channels.map((channel) => Float32Array.from(channel));
}

describe('spliceSection', () => {
  it.each([
    ['slices that cross both edges', 7],
    ['slices that end on the edges', 100],
    ['one slice for the whole song', 1000],
  ])('passes the song around the section through untouched, with %s', async (_name, size) => {
    const out = await collect(spliceSection(song(1000, size), { from: 300, to: 600, fadeFrames: 20 }, plusTen));
    const dry = await collect(song(1000, 1000));
    expect(out[0].length).toBe(1000);
    for (const c of [0, 1]) {
      expect(out[c].subarray(0, 300)).toEqual(dry[c].subarray(0, 300));
      expect(out[c].subarray(600)).toEqual(dry[c].subarray(600));
      // The section enriched, whole between its fades.
      for (let i = 320; i < 580; i++) expect(out[c][i]).toBeCloseTo(dry[c][i] + 10, 4);
      // Faded in from the song and out to it: rising, then falling, never past the answer.
      for (let i = 300; i < 320; i++) {
        expect(out[c][i]).toBeGreaterThan(dry[c][i]);
        expect(out[c][i]).toBeLessThan(dry[c][i] + 10);
        expect(out[c][i + 1] - dry[c][i + 1]).toBeGreaterThan(out[c][i] - dry[c][i]);
      }
      for (let i = 580; i < 600; i++) expect(out[c][i + 1] - dry[c][i + 1]).toBeLessThan(out[c][i] - dry[c][i]);
    }
  });

  it('enriches from the first frame without a fade-in when the section starts the song, and to the end when it runs past it', async () => {
    const out = await collect(spliceSection(song(500, 64), { from: 0, to: 800, fadeFrames: 20 }, plusTen));
    const dry = await collect(song(500, 500));
    expect(out[0].length).toBe(500);
    for (let i = 0; i < 500; i++) expect(out[0][i]).toBeCloseTo(dry[0][i] + 10, 4);
  });

  it('returns the song untouched when the section starts past its end', async () => {
    let asked = false;
    const out = await collect(
      spliceSection(song(200, 64), { from: 300, to: 400, fadeFrames: 20 }, (chunks) => {
        asked = true;
        return plusTen(chunks);
      }),
    );
    expect(out[0]).toEqual((await collect(song(200, 200)))[0]);
    expect(asked).toBe(false);
  });
});
