import * as ort from 'onnxruntime-node';
import type { GeneratorBatch, StyleGenerator } from '../../engine/enrich.js';
import { readTextureLoops, type LoadedManifest } from './manifest.js';

/**
 * The style model as the engine sees it, backed by one ONNX Runtime session. A dyno has one or two shared
 * cores and the pool already runs one worker per core, so each session gets a single intra-op thread.
 */
export async function createOnnxGenerator(manifest: LoadedManifest): Promise<StyleGenerator> {
  const session = await ort.InferenceSession.create(manifest.modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const { inputs, output, window, overlap, margin } = manifest.model;
  const styleCount = manifest.styles.length;
  const textures = await readTextureLoops(manifest);

  return {
    sampleRate: manifest.sampleRate,
    window,
    overlap,
    margin,
    textures,
    async generate({ audio, noise, texture, styleVector }: GeneratorBatch): Promise<Float32Array[]> {
      const batch = audio.length;
      const feeds: Record<string, ort.Tensor> = {
        [inputs.audio]: new ort.Tensor('float32', concat(audio, window), [batch, window]),
        [inputs.noise]: new ort.Tensor('float32', concat(noise, window), [batch, window]),
        [inputs.style]: new ort.Tensor('float32', repeat(styleVector, batch), [batch, styleCount]),
      };
      if (inputs.texture && texture) feeds[inputs.texture] = new ort.Tensor('float32', concat(texture, window), [batch, window]);
      const results = await session.run(feeds);
      const data = results[output].data as Float32Array;
      return Array.from({ length: batch }, (_, b) => data.subarray(b * window, (b + 1) * window));
    },
  };
}

/**
 * The rows as one [rows × width] block. The engine hands over rows that already sit back to back in one
 * buffer, and then the block is a view of it rather than a copy; anything else is copied together.
 */
function concat(rows: Float32Array[], width: number): Float32Array {
  const head = rows[0];
  const adjacent = rows.every(
    (row, i) => row.length === width && row.buffer === head.buffer && row.byteOffset === head.byteOffset + i * width * 4,
  );
  if (adjacent) return new Float32Array(head.buffer, head.byteOffset, rows.length * width);
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, i) => out.set(row, i * width));
  return out;
}

function repeat(row: Float32Array, times: number): Float32Array {
  const out = new Float32Array(row.length * times);
  for (let i = 0; i < times; i++) out.set(row, i * row.length);
  return out;
}
