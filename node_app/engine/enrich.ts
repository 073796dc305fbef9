import { CrossfadeSet, planWindows, type WindowPlan } from './crossfade.js';
import { limitPeaksInPlace } from './limiter.js';
import { frameCount, type Pcm } from './pcm.js';
import { fillGaussian, windowSeed } from './random.js';
import { readResampled } from './resample.js';

/** What the engine needs from a style model: mono windows in, the generated layer out, at the model's rate. */
export interface StyleGenerator {
  readonly sampleRate: number;
  /** Window length in samples at `sampleRate`. */
  readonly window: number;
  /** Samples shared by neighbouring windows, cross-faded to hide the model's edge effects. */
  readonly overlap: number;
  generate(batch: GeneratorBatch): Promise<Float32Array[]>;
}

export interface GeneratorBatch {
  /** Dry music, one window per entry. */
  audio: Float32Array[];
  /** Standard normal noise, one window per entry: the model's only source of randomness. */
  noise: Float32Array[];
  /** Style weights, summing to one. */
  style: Float32Array;
}

export interface EnrichOptions {
  /** 0 returns the input untouched; 1 adds the whole generated layer. */
  amount: number;
  style: Float32Array;
  seed: number;
  /** Windows per model call. Part of the output's identity: the same value gives the same bytes. */
  batchSize?: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

const DEFAULT_BATCH = 4;
const LIMITER_LOOKAHEAD_SECONDS = 0.005;

/**
 * Adds the style's generated layer to the music: `out = dry + amount * wet`, then peak-limits.
 *
 * Works in place on `pcm` and returns it: each channel is walked window by window, and samples are overwritten
 * with the result as soon as no later window needs them as input, so memory grows with the window and not
 * with the song.
 */
export async function enrichPcm(pcm: Pcm, generator: StyleGenerator, options: EnrichOptions): Promise<Pcm> {
  const length = frameCount(pcm);
  if (options.amount === 0 || length === 0) return pcm;

  const modelLength = Math.ceil(length * (generator.sampleRate / pcm.sampleRate));
  const plan = planWindows(modelLength, generator.window, generator.overlap);
  const totalWindows = plan.count * pcm.channels.length;
  let doneWindows = 0;

  for (let c = 0; c < pcm.channels.length; c++) {
    await enrichChannel(pcm.channels[c], pcm.sampleRate, c, plan, generator, options, (windows) => {
      doneWindows += windows;
      options.onProgress?.(doneWindows / totalWindows);
    });
  }
  limitPeaksInPlace(pcm.channels, Math.round(LIMITER_LOOKAHEAD_SECONDS * pcm.sampleRate));
  return pcm;
}

async function enrichChannel(
  samples: Float32Array,
  sampleRate: number,
  channel: number,
  plan: WindowPlan,
  generator: StyleGenerator,
  options: EnrichOptions,
  onWindowsDone: (count: number) => void,
): Promise<void> {
  const modelPerNative = generator.sampleRate / sampleRate;
  const nativePerModel = 1 / modelPerNative;
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
  const wet = new WetAccumulator(plan.size + plan.hop + Math.ceil(modelPerNative) + 2);
  const fades = new CrossfadeSet(plan);
  // One block per batch, reused for every batch: the rows are views into it, so a generator can hand the
  // whole block to the model without concatenating, and a song allocates no per-window buffers.
  const audioBlock = new Float32Array(batchSize * plan.size);
  const noiseBlock = new Float32Array(batchSize * plan.size);
  const { amount } = options;
  let finalized = 0;

  const finalizeUpTo = (limit: number): void => {
    wet.mixInto(samples, finalized, Math.min(limit, samples.length), modelPerNative, amount);
    finalized = Math.max(finalized, limit);
    wet.dropBefore(Math.floor(finalized * modelPerNative));
  };

  for (let first = 0; first < plan.count; first += batchSize) {
    options.signal?.throwIfAborted();
    const count = Math.min(plan.count, first + batchSize) - first;
    const audio: Float32Array[] = [];
    const noise: Float32Array[] = [];
    for (let b = 0; b < count; b++) {
      const k = first + b;
      const row = (block: Float32Array) => block.subarray(b * plan.size, (b + 1) * plan.size);
      audio.push(readResampled(samples, k * plan.hop, nativePerModel, row(audioBlock)));
      noise.push(fillGaussian(row(noiseBlock), windowSeed(options.seed, channel, k)));
    }
    const generated = await generator.generate({ audio, noise, style: options.style });

    for (let b = 0; b < count; b++) {
      const k = first + b;
      wet.addWeighted(k * plan.hop, generated[b], fades.weights(k));
      // Model samples before the next window's start are final; native samples that the next window still
      // reads as input must wait, which the floor below guarantees.
      const nextStart = (k + 1) * plan.hop;
      finalizeUpTo(Math.min(samples.length, Math.floor((nextStart - 1) * nativePerModel)));
    }
    onWindowsDone(count);
  }
  finalizeUpTo(samples.length);
}

/** A sliding stretch of the generated layer, addressed by absolute position at the model's rate. */
class WetAccumulator {
  private readonly data: Float32Array;
  private start = 0;

  constructor(capacity: number) {
    this.data = new Float32Array(capacity);
  }

  addWeighted(position: number, values: Float32Array, weights: Float32Array): void {
    const offset = position - this.start;
    const data = this.data;
    if (offset < 0 || offset + values.length > data.length) {
      throw new RangeError(`window at ${position} falls outside the accumulator at ${this.start}`);
    }
    for (let t = 0; t < values.length; t++) {
      const value = values[t];
      // A model that emits NaN must not leak it into the song.
      if (Number.isFinite(value)) data[offset + t] += value * weights[t];
    }
  }

  /**
   * `samples[i] += amount * layer(i * step)` for i in [from, to): `sampleAt` written out in the loop, because
   * this runs once for every sample of the song.
   */
  mixInto(samples: Float32Array, from: number, to: number, step: number, amount: number): void {
    const data = this.data;
    const start = this.start;
    const length = data.length;
    for (let i = from; i < to; i++) {
      const position = i * step - start;
      const index = Math.floor(position);
      let value = 0;
      if (index >= 0 && index < length) {
        const current = data[index];
        const next = index + 1 < length ? data[index + 1] : 0;
        value = current + (position - index) * (next - current);
      }
      samples[i] += amount * value;
    }
  }

  dropBefore(position: number): void {
    const shift = position - this.start;
    if (shift <= 0) return;
    this.data.copyWithin(0, Math.min(shift, this.data.length));
    this.data.fill(0, Math.max(0, this.data.length - shift));
    this.start = position;
  }
}
