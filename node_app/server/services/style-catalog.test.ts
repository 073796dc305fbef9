import { describe, expect, it } from 'vitest';
import type { StyleEntry } from '../adapters/inference/manifest.js';
import { StyleCatalog } from './style-catalog.js';

const entry = (id: string, index: number): StyleEntry => ({ id, index, label: id, kind: 'nature', description: `the sound of ${id}`, texture: `textures/${id}.wav` });
// The model's order is not the manifest's: the vector must follow `index`.
const catalog = new StyleCatalog([entry('rain', 2), entry('blues', 0), entry('vinyl', 1), entry('sea', 3)], 'rain');

describe('StyleCatalog', () => {
  it('lists the styles without the model’s bookkeeping', () => {
    expect(catalog.list()[0]).toEqual({ id: 'rain', label: 'rain', kind: 'nature', description: 'the sound of rain' });
  });

  it('falls back to the default style when none is asked for', () => {
    for (const spec of [undefined, '', '   ']) expect(catalog.resolve(spec, 1)).toMatchObject({ spec: 'rain', weights: { rain: 1 } });
  });

  it('puts each weight at its style’s index in the model’s style vector', () => {
    const mix = catalog.resolve('vinyl:1, rain:3', 1);
    expect(mix.spec).toBe('vinyl:0.25,rain:0.75');
    expect([...mix.styleVector]).toEqual([0, 0.25, 0.75, 0]);
  });

  it('makes the same random mix of two or three styles from the same seed, and different ones from others', () => {
    const mixes = Array.from({ length: 40 }, (_, seed) => catalog.resolve('random', seed));
    for (const [seed, mix] of mixes.entries()) {
      expect(catalog.resolve('random', seed)).toEqual(mix);
      expect(Object.keys(mix.weights).length).toBeGreaterThanOrEqual(2);
      expect(Object.keys(mix.weights).length).toBeLessThanOrEqual(3);
      expect(mix.styleVector.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
      // What a random job echoes back repeats it without the seed's help.
      expect(catalog.resolve(mix.spec, 0).weights).toEqual(mix.weights);
    }
    expect(new Set(mixes.map((m) => m.spec)).size).toBeGreaterThan(10);
  });

  it('refuses styles it does not have', () => {
    expect(() => catalog.resolve('rain,thunder', 1)).toThrow(expect.objectContaining({ code: 'UNKNOWN_STYLE', status: 400 }));
  });
});
