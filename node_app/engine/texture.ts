import { seededOffset } from './random.js';

/**
 * The recorded textures a model shapes (rain, surf, crackle …), one seamless loop per style at the model's
 * rate; styles without a recording have none.
 */
export type TextureLoops = ReadonlyArray<Float32Array | undefined>;

/** Where one channel reads each style's loop: a seeded start per (seed, channel, style), fixed for the song. */
export class TextureReader {
  private readonly parts: { loop: Float32Array; gain: number; start: number }[];

  constructor(loops: TextureLoops, weights: Float32Array, seed: number, channel: number) {
    // Square roots of the weights keep the power of a mix of uncorrelated recordings at that of one.
    this.parts = loops.flatMap((loop, style) =>
      loop && loop.length > 0 && weights[style] > 0
        ? [{ loop, gain: Math.sqrt(weights[style]), start: seededOffset(seed, channel, style, loop.length) }]
        : [],
    );
  }

  /** Fills `out` with the mix at positions [position, position + out.length), wrapping around each loop. */
  fill(out: Float32Array, position: number): Float32Array {
    out.fill(0);
    for (const { loop, gain, start } of this.parts) {
      let read = (start + position) % loop.length;
      for (let t = 0; t < out.length; ) {
        const run = Math.min(out.length - t, loop.length - read);
        for (let i = 0; i < run; i++) out[t + i] += gain * loop[read + i];
        t += run;
        read = 0;
      }
    }
    return out;
  }
}
