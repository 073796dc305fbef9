import { normaliseWeights, parseStyleSpec, styleSpecOf } from './style-spec.js';

/** A style as the model counts it: its place in the model's style input, and whether it is the user's own recording. */
export interface StyleSlot {
  id: string;
  index: number;
  needsTexture?: boolean;
}

/** A resolved choice of styles: what the model receives and how the choice is written back to the user. */
export interface StyleMix {
  /** Canonical form, e.g. "rain" or "rain:0.7,blues:0.3"; it repeats the job when sent back. */
  spec: string;
  weights: Record<string, number>;
  /** One weight per style, in the model's order: the style input of the model. */
  styleVector: Float32Array;
}

/**
 * Resolves a `style` field (the default style when there is none) against the model's styles; `random` is a mix
 * chosen by `seed`. The server and the browser's preview both call this, so the same field and seed give the
 * model the same style vector on both sides.
 */
export function resolveStyleMix(slots: readonly StyleSlot[], defaultStyle: string, spec: string | undefined, seed: number): StyleMix {
  const ids = slots.map((s) => s.id);
  const choice = parseStyleSpec(spec?.trim() || defaultStyle, ids);
  const weights = choice.random ? randomWeights(slots, seed) : choice.weights;
  const styleVector = new Float32Array(slots.length);
  for (const [id, w] of Object.entries(weights)) styleVector[slots[ids.indexOf(id)].index] = w;
  return { spec: styleSpecOf(weights), weights, styleVector };
}

/** Two or three styles with weights from 1 to 10, picked by a xorshift generator seeded with the job's seed. */
function randomWeights(slots: readonly StyleSlot[], seed: number): Record<string, number> {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  // A random mix never asks for a recording the request may not have.
  const pool = slots.filter((s) => !s.needsTexture);
  const count = Math.min(pool.length, 2 + Math.floor(next() * 2));
  const weights = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const [picked] = pool.splice(Math.floor(next() * pool.length), 1);
    weights.set(picked.id, 1 + Math.round(next() * 9));
  }
  return normaliseWeights(weights);
}
