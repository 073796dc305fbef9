import * as ort from 'onnxruntime-node';
import type { LoadedManifest } from '../node_app/server/adapters/inference/manifest.js';
import { sessionOptions } from '../node_app/server/adapters/inference/onnx-generator.js';
import { summarize, type Summary } from './stats.js';

export interface ModelRow {
  batch: number;
  threads: number;
  /** Milliseconds of `session.run` per window. */
  msPerWindow: Summary;
  /** The model's own real-time factor for mono audio: run time per second of new audio (one hop). */
  rtf: number;
}

/**
 * The model alone, outside the engine: how its cost per window moves with the batch size and the number of
 * intra-op threads. This is the teammate's side of the split, so it is measured with ORT directly.
 */
export async function benchModel(manifest: LoadedManifest, reps: number, windowsPerRun = 16): Promise<ModelRow[]> {
  const { window, overlap, inputs, output } = manifest.model;
  const styles = manifest.styles.length;
  const rows: ModelRow[] = [];
  for (const threads of [1, 2]) {
    const session = await ort.InferenceSession.create(manifest.modelPath, sessionOptions(threads));
    for (const batch of [1, 4, 8]) {
      const audio = Float32Array.from({ length: batch * window }, (_, i) => 0.3 * Math.sin(i * 0.05));
      const noise = Float32Array.from({ length: batch * window }, (_, i) => Math.sin(i * 12.9898) * 1.7);
      const style = new Float32Array(batch * styles).map((_, i) => (i % styles === 0 ? 1 : 0));
      const feeds: Record<string, ort.Tensor> = {
        [inputs.audio]: new ort.Tensor('float32', audio, [batch, window]),
        [inputs.noise]: new ort.Tensor('float32', noise, [batch, window]),
        [inputs.style]: new ort.Tensor('float32', style, [batch, styles]),
      };
      // Models v2 also take the styles' beds and v3 their event tracks; any signal of the right shape costs the same.
      if (inputs.texture) feeds[inputs.texture] = new ort.Tensor('float32', audio.map((v) => 0.5 * v), [batch, window]);
      if (inputs.events) feeds[inputs.events] = new ort.Tensor('float32', audio.map((v) => 0.25 * v), [batch, window]);
      await session.run(feeds, [output]);
      const runs: number[] = [];
      for (let r = 0; r < reps; r++) {
        const calls = Math.max(1, Math.round(windowsPerRun / batch));
        const started = performance.now();
        for (let k = 0; k < calls; k++) await session.run(feeds, [output]);
        runs.push((performance.now() - started) / (calls * batch));
      }
      const msPerWindow = summarize(runs);
      rows.push({ batch, threads, msPerWindow, rtf: msPerWindow.median / 1000 / ((window - overlap) / manifest.sampleRate) });
    }
    await session.release();
  }
  return rows;
}
