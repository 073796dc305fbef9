/** Roughly how many peaks a waveform gets, whatever the length: enough for a phone's or a laptop's width. */
export const TARGET_PEAKS = 1600;

/** Frames per peak for a stream of `expectedFrames` (null when unknown: then 20 peaks a second). */
export function framesPerPeak(expectedFrames: number | null, sampleRate: number): number {
  if (expectedFrames && expectedFrames > 0) return Math.max(1, Math.ceil(expectedFrames / TARGET_PEAKS));
  return Math.max(1, Math.round(sampleRate / 20));
}

/**
 * The loudest absolute sample of every `framesPerPeak` frames, over all channels, as planar chunks go by:
 * what a waveform picture needs, in a few kilobytes however long the audio is.
 */
export class PeakMeter {
  private readonly values: number[] = [];
  private current = 0;
  private filled = 0;

  constructor(readonly framesPerPeak: number) {}

  add(chunk: readonly Float32Array[]): void {
    const frames = chunk[0]?.length ?? 0;
    for (let i = 0; i < frames; i++) {
      for (const channel of chunk) {
        const level = Math.abs(channel[i]);
        if (level > this.current) this.current = level;
      }
      if (++this.filled === this.framesPerPeak) this.push();
    }
  }

  /** The peaks so far, the last partial bucket included, rounded to 1/1000 to keep the JSON small. */
  peaks(): number[] {
    const all = this.filled > 0 ? [...this.values, this.current] : this.values;
    return all.map((v) => Math.round(Math.min(1, v) * 1000) / 1000);
  }

  private push(): void {
    this.values.push(this.current);
    this.current = 0;
    this.filled = 0;
  }
}
