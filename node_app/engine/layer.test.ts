import { describe, expect, it } from 'vitest';
import { LayerStream } from './layer.js';

describe('LayerStream', () => {
  it('is result − gain · input, whatever slices either stream comes in', () => {
    const input = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 9) * 0.5);
    const added = Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i / 4) * 0.1);
    const result = input.map((v, i) => 0.8 * v + added[i]);
    const stream = new LayerStream(1, 0.8);
    const layer: number[] = [];
    for (let i = 0, j = 0; i < 1000 || j < 1000; ) {
      if (i < 1000) layer.push(...stream.addInput([input.subarray(i, i + 37)])[0]);
      if (j < 1000) layer.push(...stream.addResult([result.subarray(j, j + 101)])[0]);
      i += 37;
      j += 101;
    }
    stream.finish();
    expect(layer).toHaveLength(1000);
    layer.forEach((v, i) => expect(v).toBeCloseTo(added[i], 6));
  });

  it('refuses streams of different lengths', () => {
    const stream = new LayerStream(2, 1);
    stream.addInput([new Float32Array(10), new Float32Array(10)]);
    stream.addResult([new Float32Array(9), new Float32Array(9)]);
    expect(() => stream.finish()).toThrow(/cannot be aligned/);
  });
});
