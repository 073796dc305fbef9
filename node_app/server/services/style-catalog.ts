import { randomSeed, resolveStyleMix, type EnrichParams, type JobParams, type Style, type StyleMix } from '../../contract/index.js';
import type { StyleEntry } from '../adapters/inference/manifest.js';

export class StyleCatalog {
  constructor(
    private readonly entries: StyleEntry[],
    readonly defaultStyle: string,
    /** The model's sample rate: a user's own recording is brought to it before it becomes a bank. */
    readonly sampleRate: number,
  ) {}

  /** The styles as clients see them: the model's bookkeeping (its index, its bank of recordings) stays inside. */
  list(): Style[] {
    return this.entries.map(({ index: _index, bank: _bank, ...style }) => style);
  }

  /** Whether a mix weaves in the user's own recording (the `texture` upload). */
  needsTexture(weights: Record<string, number>): boolean {
    return this.entries.some((e) => e.needsTexture && (weights[e.id] ?? 0) > 0);
  }

  /**
   * A request's settled parameters, as the job keeps them: its seed (drawn when none was given) and its style
   * field resolved to a canonical spec and weights, so that sending them back repeats the job exactly.
   */
  settle(params: EnrichParams): { params: JobParams; styleVector: Float32Array } {
    const seed = params.seed ?? randomSeed();
    const mix = this.resolve(params.style, seed);
    const { amount, format, start, end, loudness, intensity } = params;
    // Only a section can be kept whole, and the default (the section alone) is left unsaid.
    const keep = params.keep === 'whole' && (start !== undefined || end !== undefined) ? params.keep : undefined;
    return { params: { style: mix.spec, weights: mix.weights, amount, seed, format, start, end, keep, loudness, intensity }, styleVector: mix.styleVector };
  }

  /** Resolves a `style` field (the default style when there is none); `random` is a mix chosen by `seed`. */
  resolve(spec: string | undefined, seed: number): StyleMix {
    return resolveStyleMix(this.entries, this.defaultStyle, spec, seed);
  }
}
