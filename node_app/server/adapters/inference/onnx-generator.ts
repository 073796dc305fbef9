import * as ort from 'onnxruntime-node';
import type { GeneratorBatch, StyleGenerator } from '../../../engine/enrich.js';
import { readTextureLoops, type LoadedManifest } from './manifest.js';

/**
 * How the app runs the model: on the CPU, sequentially, with `threads` intra-op threads. A dyno has one or two
 * shared cores and the pool already runs one worker per core, so the app's sessions take one.
 */
export function sessionOptions(threads = 1): ort.InferenceSession.SessionOptions {
  return { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
}

/** The style model backed by one ONNX Runtime session, which can be let go while there is no work. */
export interface OnnxGenerator extends StyleGenerator {
  /**
   * Frees the session and with it ONNX Runtime's memory arena, which keeps the most a run has needed (≈ 25 MB)
   * for as long as the session lives; the next window makes a new session (≈ 0.2 s) and gives the same samples.
   */
  release(): Promise<void>;
}

export async function createOnnxGenerator(manifest: LoadedManifest): Promise<OnnxGenerator> {
  const create = () => ort.InferenceSession.create(manifest.modelPath, sessionOptions());
  let session: Promise<ort.InferenceSession> | null = create();
  // A model that does not load fails here, at start, rather than at the first window.
  await session;
  const { inputs, output, window, overlap, margin } = manifest.model;
  const styleCount = manifest.styles.length;
  const textures = await readTextureLoops(manifest);

  return {
    sampleRate: manifest.sampleRate,
    window,
    overlap,
    margin,
    textures,
    async release() {
      const released = session;
      session = null;
      await (await released)?.release();
    },
    async generate({ audio, noise, texture, styleVector }: GeneratorBatch): Promise<Float32Array[]> {
      const model = await (session ??= create());
      const style = new ort.Tensor('float32', styleVector, [1, styleCount]);
      const row = (block: Float32Array[], b: number) => new ort.Tensor('float32', block[b], [1, window]);
      const wet: Float32Array[] = [];
      // One window per run: ONNX Runtime's arena grows to the largest call and keeps it (73 MB more at four
      // windows than at one), and a window then gives the same samples whichever windows it came with and
      // whichever worker runs it, which is what lets a spare worker take every other window of a song.
      for (let b = 0; b < audio.length; b++) {
        const feeds: Record<string, ort.Tensor> = { [inputs.audio]: row(audio, b), [inputs.noise]: row(noise, b), [inputs.style]: style };
        if (inputs.texture && texture) feeds[inputs.texture] = row(texture, b);
        wet.push((await model.run(feeds))[output].data as Float32Array);
      }
      return wet;
    },
  };
}
