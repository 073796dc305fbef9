import { normaliseWeights, parseStyleSpec, randomSeed, styleSpecOf, type EnrichParams, type JobParams, type Style } from '../../contract/index.js';
import type { StyleEntry } from '../adapters/inference/manifest.js';

/** A resolved choice of styles: what the model receives and how the choice is written back to the user. */
export interface StyleMix {
  /** Canonical form, e.g. "rain" or "rain:0.7,blues:0.3"; it repeats the job when sent back. */
  spec: string;
  weights: Record<string, number>;
  /** One weight per style, in the model's order: the style input of the model. */
  styleVector: Float32Array;
}

export class StyleCatalog {
  private readonly ids: string[];

  constructor(
    private readonly entries: StyleEntry[],
    readonly defaultStyle: string,
  ) {
    this.ids = entries.map((e) => e.id);
  }

  /** The styles as clients see them: the model's bookkeeping (its index, its texture file) stays inside. */
  list(): Style[] {
    return this.entries.map(({ index: _index, texture: _texture, ...style }) => style);
  }

  /**
   * A request's settled parameters, as the job keeps them: its seed (drawn when none was given) and its style
   * field resolved to a canonical spec and weights, so that sending them back repeats the job exactly.
   */
  settle(params: EnrichParams): { params: JobParams; styleVector: Float32Array } {
    const seed = params.seed ?? randomSeed();
    const mix = this.resolve(params.style, seed);
    const { amount, format, start, end } = params;
    return { params: { style: mix.spec, weights: mix.weights, amount, seed, format, start, end }, styleVector: mix.styleVector };
  }

  /** Resolves a `style` field (the default style when there is none); `random` is a mix chosen by `seed`. */
  resolve(spec: string | undefined, seed: number): StyleMix {
    const choice = parseStyleSpec(spec?.trim() || this.defaultStyle, this.ids);
    return this.mixOf(choice.random ? this.randomWeights(seed) : choice.weights);
  }

  /** Two or three styles with weights from 1 to 10, picked by a xorshift generator seeded with the job's seed. */
  private randomWeights(seed: number): Record<string, number> {
    let state = seed >>> 0 || 1;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 4294967296;
    };
    const pool = [...this.entries];
    const count = Math.min(pool.length, 2 + Math.floor(next() * 2));
    const weights = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const [picked] = pool.splice(Math.floor(next() * pool.length), 1);
      weights.set(picked.id, 1 + Math.round(next() * 9));
    }
    return normaliseWeights(weights);
  }

  private mixOf(weights: Record<string, number>): StyleMix {
    const styleVector = new Float32Array(this.entries.length);
    for (const [id, w] of Object.entries(weights)) styleVector[this.entries[this.ids.indexOf(id)].index] = w;
    return { spec: styleSpecOf(weights), weights, styleVector };
  }
}
