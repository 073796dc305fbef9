import { SampleQueue } from './sample-queue.js';

/**
 * The added layer of a song: `result − gain · input`, sample by sample, over two planar streams whose slices
 * need not line up (the input comes from its decoder, the result from the master). `gain` is the level the
 * result was brought to (1 unless a loudness target moved it), so `gain · input + layer = result` wherever
 * nothing else acted. `push` takes result slices and returns the layer as far as the input has come;
 * `addInput` feeds the input. Memory holds what one stream is ahead of the other.
 */
export class LayerStream {
  private readonly input: SampleQueue[];
  private readonly result: SampleQueue[];
  private inputFrames = 0;
  private resultFrames = 0;
  private emitted = 0;

  constructor(
    private readonly channelCount: number,
    private readonly gain: number,
  ) {
    this.input = Array.from({ length: channelCount }, () => new SampleQueue());
    this.result = Array.from({ length: channelCount }, () => new SampleQueue());
  }

  addInput(chunk: readonly Float32Array[]): Float32Array[] {
    for (let c = 0; c < this.channelCount; c++) this.input[c].append(chunk[c]);
    this.inputFrames += chunk[0]?.length ?? 0;
    return this.drain();
  }

  addResult(chunk: readonly Float32Array[]): Float32Array[] {
    for (let c = 0; c < this.channelCount; c++) this.result[c].append(chunk[c]);
    this.resultFrames += chunk[0]?.length ?? 0;
    return this.drain();
  }

  /** Result frames still waiting for their input. */
  get pending(): number {
    return Math.max(0, this.resultFrames - this.inputFrames);
  }

  /** Both streams have ended: throws unless they were the same length, which a job's input and result always are. */
  finish(): void {
    if (this.inputFrames !== this.resultFrames) {
      throw new Error(`the result has ${this.resultFrames} frames and its input ${this.inputFrames}: they cannot be aligned`);
    }
  }

  private drain(): Float32Array[] {
    const until = Math.min(this.inputFrames, this.resultFrames);
    const from = this.emitted;
    const out = Array.from({ length: this.channelCount }, (_, c) => {
      const input = this.input[c].range(from, until);
      const result = this.result[c].range(from, until);
      const layer = new Float32Array(until - from);
      for (let i = 0; i < layer.length; i++) layer[i] = result[i] - this.gain * input[i];
      this.input[c].dropBefore(until);
      this.result[c].dropBefore(until);
      return layer;
    });
    this.emitted = until;
    return out;
  }
}
