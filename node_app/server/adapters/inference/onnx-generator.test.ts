import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest } from './manifest.js';
import { createOnnxGenerator } from './onnx-generator.js';

describe('the ONNX generator', () => {
  it('gives the same samples after its session was let go as before', async () => {
    const manifest = await loadManifest(path.resolve('models'));
    // The generator takes its banks from outside and only hands them on; the model reads the streams it is fed.
    const generator = await createOnnxGenerator(manifest);
    const window = (seed: number) => Float32Array.from({ length: manifest.model.window }, (_, i) => 0.3 * Math.sin((i * seed) / 50));
    const styleVector = new Float32Array(manifest.styles.length).fill(1 / manifest.styles.length);
    const batch = { audio: [window(1)], noise: [window(2)], styleVector, texture: [window(3)], events: [window(4)] };
    const [before] = await generator.generate(batch);
    await generator.release();
    const [after] = await generator.generate(batch);
    expect(Buffer.from(after.buffer, after.byteOffset, after.byteLength).equals(Buffer.from(before.buffer, before.byteOffset, before.byteLength))).toBe(true);
    await generator.release();
  });
});
