import * as ort from 'onnxruntime-node';
import type { GeneratorBatch, StyleGenerator } from '../../../engine/enrich.js';
import { runWindows } from '../../../engine/model-feeds.js';
import { grainSettings, type LoadedManifest } from './manifest.js';

/**
 * How the app runs the model: on the CPU, sequentially, with `threads` intra-op threads. A dyno has one or two
 * shared cores and the pool already runs one worker per core, so the app's sessions take one. Without a memory
 * pattern: with one, ONNX Runtime plans one block for all of a run's intermediate tensors on top of its arena,
 * which held 9–14 MB more at the same speed and gave the same samples (docs/performance.md). The arena itself
 * stays: without it each run maps and faults its tensors afresh, ten times slower.
 */
export function sessionOptions(threads = 1): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableMemPattern: false,
  };
}

/** The style model backed by one ONNX Runtime session, which can be let go while there is no work. */
export interface OnnxGenerator extends StyleGenerator {
  /**
   * Frees the session and with it ONNX Runtime's memory arena, which keeps the most a run has needed (≈ 25 MB)
   * for as long as the session lives; the next window makes a new session (≈ 0.2 s) and gives the same samples.
   */
  release(): Promise<void>;
}

/** The style model as the engine sees it; each song brings the banks of its styles (BankCache). */
export async function createOnnxGenerator(manifest: LoadedManifest): Promise<OnnxGenerator> {
  const create = () => ort.InferenceSession.create(manifest.modelPath, sessionOptions());
  let session: Promise<ort.InferenceSession> | null = create();
  // A model that does not load fails here, at start, rather than at the first window.
  await session;
  const { inputs, output, window, overlap, margin } = manifest.model;
  const signature = { inputs, output, window, styleCount: manifest.styles.length };
  const grains = grainSettings(manifest);
  const ownStyle = manifest.styles.find((s) => s.needsTexture)?.index;

  return {
    sampleRate: manifest.sampleRate,
    window,
    overlap,
    margin,
    ...(grains && inputs.texture ? { grains, ownStyle } : {}),
    async release() {
      const released = session;
      session = null;
      await (await released)?.release();
    },
    async generate(batch: GeneratorBatch): Promise<Float32Array[]> {
      const model = await (session ??= create());
      const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
      return runWindows(signature, tensor, async (feeds) => (await model.run(feeds))[output].data as Float32Array, batch);
    },
  };
}
