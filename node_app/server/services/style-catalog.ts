import { badRequest } from '../errors.js';
import type { StyleEntry } from '../adapters/manifest.js';

/** A style as clients see it: the model's bookkeeping (its index, its texture file) stays inside. */
export type Style = Omit<StyleEntry, 'index' | 'texture'>;

/** A resolved choice of styles: what the model receives and how the choice is written back to the user. */
export interface StyleMix {
  /** Canonical form, e.g. "rain" or "rain:0.7,blues:0.3"; it repeats the job when sent back. */
  spec: string;
  weights: Record<string, number>;
  /** One weight per style, in the model's order. */
  vector: Float32Array;
}

/** The style id that asks for a seeded mix of two or three styles: "an unknown transformation". */
export const RANDOM_STYLE = 'random';

const MIX_PART = /^([a-z0-9-]+)(?::([0-9]*\.?[0-9]+))?$/;

export class StyleCatalog {
  private readonly byId: Map<string, StyleEntry>;

  constructor(
    private readonly entries: StyleEntry[],
    readonly defaultStyle: string,
  ) {
    this.byId = new Map(entries.map((e) => [e.id, e]));
  }

  list(): Style[] {
    return this.entries.map(({ index: _index, texture: _texture, ...style }) => style);
  }

  /** Parses `rain`, `rain:0.7,blues:0.3` or `random`; weights are normalised to sum to one. */
  resolve(spec: string | undefined, seed: number): StyleMix {
    const text = (spec ?? '').trim().toLowerCase() || this.defaultStyle;
    if (text === RANDOM_STYLE) return this.randomMix(seed);

    const weights = new Map<string, number>();
    for (const part of text.split(',').map((p) => p.trim())) {
      const match = MIX_PART.exec(part);
      if (!match) {
        throw badRequest('BAD_STYLE_MIX', `Cannot read "${part}" in style. Use an id like "rain" or a mix like "rain:0.7,blues:0.3".`);
      }
      const [, id, weightText] = match;
      if (!this.byId.has(id)) {
        throw badRequest('UNKNOWN_STYLE', `Unknown style "${id}". GET /api/styles lists the ones available.`);
      }
      if (weights.has(id)) throw badRequest('BAD_STYLE_MIX', `Style "${id}" appears twice in the mix.`);
      weights.set(id, weightText === undefined ? 1 : Number(weightText));
    }
    return this.mixOf(weights);
  }

  private randomMix(seed: number): StyleMix {
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
    return this.mixOf(weights);
  }

  private mixOf(weights: Map<string, number>): StyleMix {
    const total = [...weights.values()].reduce((a, b) => a + b, 0);
    if (!(total > 0) || [...weights.values()].some((w) => !Number.isFinite(w))) {
      throw badRequest('BAD_STYLE_MIX', 'Style weights must be numbers with at least one above zero.');
    }
    const normalised = [...weights].filter(([, w]) => w > 0).map(([id, w]) => [id, round(w / total)] as const);
    const vector = new Float32Array(this.entries.length);
    for (const [id, w] of normalised) vector[this.byId.get(id)!.index] = w;
    const spec = normalised.length === 1 ? normalised[0][0] : normalised.map(([id, w]) => `${id}:${w}`).join(',');
    return { spec, weights: Object.fromEntries(normalised), vector };
  }
}

function round(weight: number): number {
  return Math.round(weight * 1000) / 1000;
}
