import { CrossfadeSet, overlapLevelGains, planWindows, type WindowPlan } from './crossfade.js';
import { LayerGains, type IntensityCurve } from './intensity.js';
import { StreamingLimiter } from './limiter.js';
import { concatPlanar } from './pcm.js';
import { channelKey, fillGaussianAt } from './random.js';
import { readResampledFrom } from './resample.js';
import { SampleQueue } from './sample-queue.js';
import { bankFromRecording, TextureReader, type GrainSettings, type StyleBanks } from './texture.js';

/** What the engine needs from a style model: mono windows in, the generated layer out, at the model's rate. */
export interface StyleGenerator {
  readonly sampleRate: number;
  /** Window length in samples at `sampleRate`. */
  readonly window: number;
  /** Samples shared by neighbouring windows, cross-faded to hide the model's edge effects. */
  readonly overlap: number;
  /** Samples at each inner window edge whose output is dropped (see {@link WindowPlan.margin}); default 0. */
  readonly margin?: number;
  /** How beds are cut and events spread; present for a model that takes recorded inputs (`EnrichOptions.banks`). */
  readonly grains?: GrainSettings;
  /** The style whose bank is the user's own recording (`EnrichOptions.ownTexture`), if the model has one. */
  readonly ownStyle?: number;
  generate(batch: GeneratorBatch): Promise<Float32Array[]>;
}

export interface GeneratorBatch {
  /** Dry music, one window per entry. */
  audio: Float32Array[];
  /** Standard normal noise, one window per entry, continuous across windows (the same samples where they overlap). */
  noise: Float32Array[];
  /** The styles' beds, continuous across windows; only for a generator with grains. */
  texture?: Float32Array[];
  /** The styles' events, continuous across windows; only for a generator with grains. */
  events?: Float32Array[];
  /** Style weights, summing to one. */
  styleVector: Float32Array;
}

export interface EnrichOptions {
  /** 0 returns the input untouched; 1 adds the whole generated layer. */
  amount: number;
  /** Multiplies `amount` by song time; the whole `amount` throughout when absent. */
  intensity?: IntensityCurve;
  /** One weight per style, in the model's order, summing to one. */
  styleVector: Float32Array;
  seed: number;
  /**
   * The recordings of the styles this song uses, by style index (a style with no weight may have none), for a
   * generator with grains; without them its beds and events are silent.
   */
  banks?: StyleBanks;
  /** The user's own recording at the model's rate (see {@link normaliseRecording}): the bank of the own style. */
  ownTexture?: Int16Array;
  /** Windows per generator call; with a generator whose windows do not depend on each other, any value gives the same bytes. */
  batchSize?: number;
  signal?: AbortSignal;
}

/**
 * Windows per generator call. The ONNX generator runs each window on its own (see onnx-generator.ts), so this
 * changes neither the samples nor the memory; a worker with a spare worker beside it asks for two at a time
 * and hands one of them over.
 */
const DEFAULT_BATCH = 1;
const LIMITER_LOOKAHEAD_SECONDS = 0.005;
/** The channel numbers of a song with `count` channels: the {@link MixStream} that carries all of them. */
export function allChannels(count: number): number[] {
  return Array.from({ length: count }, (_, c) => c);
}

/**
 * The last stage, over all of a song's channels at once: the peak limiter, linked across channels so the stereo
 * image does not move. At amount 0 the song passes untouched.
 */
export class SongLimiter {
  private readonly limiter: StreamingLimiter | null;

  constructor(
    sampleRate: number,
    private readonly channelCount: number,
    amount: number,
  ) {
    this.limiter = amount === 0 ? null : new StreamingLimiter(channelCount, Math.round(LIMITER_LOOKAHEAD_SECONDS * sampleRate));
  }

  push(mixed: Float32Array[]): Float32Array[] {
    return this.limiter ? this.limiter.push(mixed) : mixed;
  }

  /** What the limiter still holds once the song has ended. */
  finish(): Float32Array[] {
    return this.limiter ? this.limiter.finish() : Array.from({ length: this.channelCount }, () => new Float32Array(0));
  }
}

/**
 * Every channel's {@link MixStream}, then the {@link SongLimiter}, in one stream: what the server's inference pool
 * does across its workers, as the browser's preview (and the tests and the bench) run it on one thread. `push`
 * takes input and resolves to the output that is final, `finish` flushes the rest.
 */
export class EnrichStream {
  private readonly mix: MixStream;
  private readonly limiter: SongLimiter;

  constructor(sampleRate: number, channelCount: number, generator: StyleGenerator, options: EnrichOptions) {
    this.mix = new MixStream(sampleRate, allChannels(channelCount), generator, options);
    this.limiter = new SongLimiter(sampleRate, channelCount, options.amount);
  }

  async push(chunk: Float32Array[]): Promise<Float32Array[]> {
    return this.limiter.push(await this.mix.push(chunk));
  }

  async finish(): Promise<Float32Array[]> {
    const tail = this.limiter.push(await this.mix.finish());
    return concatPlanar([tail, this.limiter.finish()], tail.length);
  }
}

/**
 * The song's banks with the user's recording as the own style's, when there is one; none for a generator
 * without grains, and an empty list for one with grains that was given none (it is still fed silent streams).
 */
function withOwnBank(generator: StyleGenerator, { banks = [], ownTexture }: EnrichOptions): StyleBanks | undefined {
  const { grains, ownStyle } = generator;
  if (!grains) return undefined;
  if (ownStyle === undefined || !ownTexture) return banks;
  const all = [...banks];
  all[ownStyle] = bankFromRecording(ownTexture, grains.ownEventEvery);
  return all;
}

/** One channel's state: its dry input (mixed in place once final) and its stretch of the generated layer. */
interface ChannelState {
  input: SampleQueue;
  wet: WetAccumulator;
  /** The channel's noise stream. */
  noiseKey: number;
  texture?: TextureReader;
  /** The last window's raw samples over the overlap with the next one, to match the next window's level to. */
  tail: Float32Array;
}

/**
 * `dry + amount * wet` over a stream of planar slices, for some of a song's channels, before the limiter:
 * `push` takes input and resolves to the output that is final, `finish` flushes the rest. It holds a few
 * windows per channel, never the song.
 *
 * The song's length is unknown until `finish`, yet the output is the same as for the whole song at once: a
 * batch of windows runs only once the input shows that none of them is the last window (whose cross-fade
 * differs) and that every sample they read has arrived; what remains is batched at the end exactly as a
 * known length would batch it.
 *
 * Each channel's output depends only on that channel's input and its number in the song (which picks its noise
 * and texture), and how much comes out of a slice only on the lengths pushed, so the channels of one song can be
 * mixed by separate streams, on separate threads, and joined before the limiter with the same result.
 */
export class MixStream {
  private readonly channels: ChannelState[];
  private readonly modelPerNative: number;
  private readonly nativePerModel: number;
  private readonly batchSize: number;
  private readonly streamingPlan: WindowPlan;
  private readonly streamingFades: CrossfadeSet;
  private readonly audioBlock: Float32Array;
  private readonly noiseBlock: Float32Array;
  private readonly textureBlock?: Float32Array;
  private readonly eventsBlock?: Float32Array;
  private readonly overlapGains: Float32Array;
  private readonly layerGains: LayerGains;
  private received = 0;
  private nextWindow = 0;
  private finalized = 0;
  private emitted = 0;

  /** `channels` are the song's channel numbers that this stream carries, in the order its slices hold them. */
  constructor(
    sampleRate: number,
    channels: readonly number[],
    private readonly generator: StyleGenerator,
    private readonly options: EnrichOptions,
  ) {
    this.modelPerNative = generator.sampleRate / sampleRate;
    this.nativePerModel = 1 / this.modelPerNative;
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
    // While the length is unknown no window is treated as the last, so the plan's count only has to be large.
    this.streamingPlan = { ...planWindows(generator.window, generator.window, generator.overlap, generator.margin), count: Number.MAX_SAFE_INTEGER };
    this.streamingFades = new CrossfadeSet(this.streamingPlan);
    const { size, hop } = this.streamingPlan;
    const banks = withOwnBank(generator, options);
    const { grains } = generator;
    this.channels = channels.map((channel) => ({
      input: new SampleQueue(),
      wet: new WetAccumulator(size + hop + Math.ceil(this.modelPerNative) + 2),
      noiseKey: channelKey(options.seed, channel),
      texture: banks && grains && new TextureReader(banks, grains, options.styleVector, options.seed, channel),
      tail: new Float32Array(generator.overlap),
    }));
    // One block per batch, reused for every batch: the rows are views into it, so a generator can hand the
    // whole block to the model without concatenating, and a song allocates no per-window buffers.
    this.audioBlock = new Float32Array(this.batchSize * size);
    this.noiseBlock = new Float32Array(this.batchSize * size);
    if (banks) {
      this.textureBlock = new Float32Array(this.batchSize * size);
      this.eventsBlock = new Float32Array(this.batchSize * size);
    }
    this.overlapGains = new Float32Array(generator.overlap);
    this.layerGains = new LayerGains(options.amount, sampleRate, options.intensity);
  }

  async push(chunk: Float32Array[]): Promise<Float32Array[]> {
    if (this.options.amount === 0) return chunk.map((c) => c.slice());
    for (let c = 0; c < this.channels.length; c++) this.channels[c].input.append(chunk[c]);
    this.received += chunk[0]?.length ?? 0;
    const { size, hop } = this.streamingPlan;
    for (;;) {
      const last = this.nextWindow + this.batchSize - 1;
      // The batch's last window must not be the song's last, and every sample its input reads must be here.
      const modelEnd = last * hop + size;
      const knownModelLength = Math.ceil(this.received * this.modelPerNative);
      const lastRead = Math.floor((modelEnd - 1) * this.nativePerModel) + 1;
      if (!(knownModelLength > modelEnd && this.received > lastRead)) break;
      await this.runBatch(this.nextWindow, this.batchSize, this.streamingFades, this.received);
    }
    return this.emit();
  }

  async finish(): Promise<Float32Array[]> {
    if (this.options.amount === 0 || this.received === 0) return this.channels.map(() => new Float32Array(0));
    const length = this.received;
    const plan = planWindows(Math.ceil(length * this.modelPerNative), this.generator.window, this.generator.overlap, this.generator.margin);
    const fades = new CrossfadeSet(plan);
    while (this.nextWindow < plan.count) {
      await this.runBatch(this.nextWindow, Math.min(plan.count, this.nextWindow + this.batchSize) - this.nextWindow, fades, length);
    }
    this.finalizeUpTo(length, length);
    return this.emit();
  }

  /**
   * Windows [first, first + count) of every channel, one model call per channel. `known` is how many input
   * samples exist: reads past it see silence, as they would past the end of a whole song.
   */
  private async runBatch(first: number, count: number, fades: CrossfadeSet, known: number): Promise<void> {
    const { size, hop, overlap } = this.streamingPlan;
    for (let c = 0; c < this.channels.length; c++) {
      this.options.signal?.throwIfAborted();
      const { input, wet, noiseKey, texture, tail } = this.channels[c];
      const audio: Float32Array[] = [];
      const noise: Float32Array[] = [];
      const textureRows: Float32Array[] = [];
      const eventRows: Float32Array[] = [];
      for (let b = 0; b < count; b++) {
        const k = first + b;
        const row = (block: Float32Array) => block.subarray(b * size, (b + 1) * size);
        audio.push(readResampledFrom(input, known, k * hop, this.nativePerModel, row(this.audioBlock)));
        noise.push(fillGaussianAt(row(this.noiseBlock), noiseKey, k * hop));
        if (texture && this.textureBlock && this.eventsBlock) {
          textureRows.push(texture.fillBed(row(this.textureBlock), k * hop));
          eventRows.push(texture.fillEvents(row(this.eventsBlock), k * hop));
        }
      }
      const generated = await this.generator.generate({
        audio,
        noise,
        styleVector: this.options.styleVector,
        ...(texture ? { texture: textureRows, events: eventRows } : {}),
      });
      let finalized = this.finalized;
      for (let b = 0; b < count; b++) {
        const k = first + b;
        const weights = fades.weights(k);
        wet.addWeighted(k * hop, generated[b], weights);
        if (k > 0 && overlap > 0) {
          wet.scale(k * hop, overlapLevelGains(tail, generated[b], weights, this.overlapGains));
        }
        tail.set(generated[b].subarray(hop, hop + overlap));
        // Model samples before the next window's start are final; native samples that the next window still
        // reads as input must wait, which the floor below guarantees.
        const nextStart = (k + 1) * hop;
        finalized = this.finalizeChannel(c, finalized, Math.min(known, Math.floor((nextStart - 1) * this.nativePerModel)), known);
      }
      if (c === this.channels.length - 1) this.finalized = finalized;
    }
    this.nextWindow = first + count;
  }

  private finalizeUpTo(limit: number, known: number): void {
    let finalized = this.finalized;
    for (let c = 0; c < this.channels.length; c++) finalized = this.finalizeChannel(c, this.finalized, limit, known);
    this.finalized = finalized;
  }

  /** Mixes [from, limit) of one channel and returns its new frontier; every channel moves through the same ones. */
  private finalizeChannel(channel: number, from: number, limit: number, known: number): number {
    const { input, wet } = this.channels[channel];
    const { data, offset } = input.view();
    const to = Math.min(limit, known);
    wet.mixInto(data, offset, from, to, this.modelPerNative, this.options.amount, this.layerGains.range(from, to));
    const finalized = Math.max(from, limit);
    wet.dropBefore(Math.floor(finalized * this.modelPerNative));
    return finalized;
  }

  private emit(): Float32Array[] {
    const from = this.emitted;
    const to = this.finalized;
    const out = this.channels.map(({ input }) => input.range(from, to).slice());
    for (const { input } of this.channels) input.dropBefore(to);
    this.emitted = to;
    return out;
  }
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

  /** Multiplies the layer from `position` on by `gains`. */
  scale(position: number, gains: Float32Array): void {
    const offset = position - this.start;
    for (let t = 0; t < gains.length; t++) this.data[offset + t] *= gains[t];
  }

  /**
   * `samples[i] += amount * layer(i * step)` for i in [from, to), or `gains[i - from]` instead of `amount` where
   * given: linear interpolation written out in the loop, because this runs once for every sample of the song.
   */
  mixInto(samples: Float32Array, offset: number, from: number, to: number, step: number, amount: number, gains: Float64Array | null): void {
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
      samples[i + offset] += (gains ? gains[i - from] : amount) * value;
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
