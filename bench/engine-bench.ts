import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { StyleGenerator } from '../node_app/engine/enrich.js';
import { planWindows } from '../node_app/engine/crossfade.js';
import { frameCount } from '../node_app/engine/pcm.js';
import { fillGaussianAt } from '../node_app/engine/random.js';
import type { BankCache } from '../node_app/server/adapters/inference/bank-cache.js';
import type { AudioCodec } from '../node_app/server/adapters/media/audio-codec.js';
import { enrichPcm } from '../test/helpers/engine.js';
import { collectPcm, writeWav16 } from '../test/helpers/pcm.js';
import type { LoadedManifest } from '../node_app/server/adapters/inference/manifest.js';
import { StyleCatalog } from '../node_app/server/services/style-catalog.js';
import type { BenchInput } from './inputs.js';

/** Seconds spent in each stage of one song, measured in process with the adapters the server uses. */
export interface StageTimes {
  decode: number;
  inference: number;
  /** Everything in `enrichPcm` that is not the model: resampling, noise, overlap-add, mixing, limiting. */
  mix: number;
  /** The part of `mix` spent drawing the model's Gaussian noise, timed on its own. */
  noise: number;
  encode: number;
  total: number;
  windows: number;
}

export interface EngineBench {
  run(input: BenchInput, styleSpec: string, scratch: string): Promise<StageTimes>;
}

/**
 * The engine driven directly: decode with the codec, `enrichPcm` with the ONNX generator on this thread (the
 * same work a worker does), then the WAV master and, for MP3 uploads, an MP3 encode like the API's.
 */
export function createEngineBench(manifest: LoadedManifest, generator: StyleGenerator, banks: BankCache, codec: AudioCodec): EngineBench {
  const catalog = new StyleCatalog(manifest.styles, manifest.defaultStyle, manifest.sampleRate);
  let inferenceSeconds = 0;
  let windows = 0;
  // Everything the engine reads from a generator (margin, grains) but with `generate` timed.
  const timed: StyleGenerator = {
    ...generator,
    async generate(batch) {
      const started = performance.now();
      const out = await generator.generate(batch);
      inferenceSeconds += (performance.now() - started) / 1000;
      windows += batch.audio.length;
      return out;
    },
  };

  return {
    async run(input, styleSpec, scratch) {
      inferenceSeconds = 0;
      windows = 0;
      const t0 = performance.now();
      const pcm = await collectPcm(await codec.decode(input.file, { maxSeconds: 3600 }));
      const t1 = performance.now();
      const { styleVector } = catalog.resolve(styleSpec, 1);
      const held = await banks.acquire(styleVector);
      await enrichPcm(pcm, timed, { amount: 0.5, styleVector, seed: 7, banks: held.banks }).finally(held.release);
      const t2 = performance.now();
      const master = path.join(scratch, 'engine-master.wav');
      await writeWav16(pcm, master);
      if (input.format === 'mp3') await codec.transcode(master, 'mp3', path.join(scratch, 'engine-out.mp3'));
      const t3 = performance.now();
      await rm(master, { force: true });
      const enrich = (t2 - t1) / 1000;
      return {
        decode: (t1 - t0) / 1000,
        inference: inferenceSeconds,
        mix: enrich - inferenceSeconds,
        noise: noiseSeconds(frameCount(pcm), pcm.sampleRate, pcm.channels.length, manifest),
        encode: (t3 - t2) / 1000,
        total: (t3 - t0) / 1000,
        windows,
      };
    },
  };
}

/** Draws as much noise as the song needs, alone, to show what share of the mixing stage it takes. */
function noiseSeconds(frames: number, sampleRate: number, channels: number, manifest: LoadedManifest): number {
  const modelFrames = Math.ceil(frames * (manifest.sampleRate / sampleRate));
  const plan = planWindows(modelFrames, manifest.model.window, manifest.model.overlap, manifest.model.margin);
  const buffer = new Float32Array(plan.size);
  const started = performance.now();
  for (let k = 0; k < plan.count * channels; k++) fillGaussianAt(buffer, k % channels, k * plan.hop);
  return (performance.now() - started) / 1000;
}
