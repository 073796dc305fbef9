import * as ort from 'onnxruntime-node';
import { fillGaussianAt } from '../../node_app/engine/random.js';
import { sessionOptions } from '../../node_app/server/adapters/inference/onnx-generator.js';

/**
 * A fixed, seeded set of model inputs (two rows of 16384 samples: one pure style, one mix), and a plain run of
 * an ONNX file on them. Used to check that the shipped graph computes what the graph before it computed with
 * the same weights (test/fft-graph.test.ts, test/fixtures/make-dense-dft-reference.ts).
 */
export const PROBE_BATCH = 2;
export const PROBE_SAMPLES = 16384;

export interface ProbeInputs {
  audio: Float32Array;
  noise: Float32Array;
  texture: Float32Array;
  style: Float32Array;
}

export function probeInputs(styleCount: number): ProbeInputs {
  const n = PROBE_BATCH * PROBE_SAMPLES;
  const hiss = fillGaussianAt(new Float32Array(n), 11, 0);
  const audio = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = (i % PROBE_SAMPLES) / 44100;
    const swell = Math.sin(Math.PI * t * 2) ** 2; // loud and quiet passages, so the loudness features move
    audio[i] = swell * (0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.15 * Math.sin(2 * Math.PI * 331 * t)) + 0.02 * hiss[i];
  }
  const texture = fillGaussianAt(new Float32Array(n), 13, 0).map((x) => 0.1 * x);
  const style = new Float32Array(PROBE_BATCH * styleCount);
  style[0] = 1;
  const mix = [0.5, 0.3, 0.2];
  mix.forEach((w, k) => (style[styleCount + ((1 + 3 * k) % styleCount)] = w));
  return { audio, noise: fillGaussianAt(new Float32Array(n), 12, 0), texture, style };
}

export async function runProbe(modelPath: string, inputs: ProbeInputs, styleCount: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelPath, sessionOptions());
  const shape = [PROBE_BATCH, PROBE_SAMPLES];
  const result = await session.run({
    audio: new ort.Tensor('float32', inputs.audio, shape),
    noise: new ort.Tensor('float32', inputs.noise, shape),
    texture: new ort.Tensor('float32', inputs.texture, shape),
    style: new ort.Tensor('float32', inputs.style, [PROBE_BATCH, styleCount]),
  });
  const wet = result.wet.data as Float32Array;
  await session.release();
  return wet;
}
