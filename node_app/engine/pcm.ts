/** Planar audio: one Float32Array per channel, all of the same length, samples in [-1, 1]. */
export interface Pcm {
  sampleRate: number;
  channels: Float32Array[];
}

export function frameCount(pcm: Pcm): number {
  return pcm.channels[0]?.length ?? 0;
}

export function durationSeconds(pcm: Pcm): number {
  return frameCount(pcm) / pcm.sampleRate;
}

/** Replaces NaN and ±Infinity with silence: a float WAV can carry them, and one would poison every window it touches. */
export function sanitizeInPlace(samples: Float32Array): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) samples[i] = 0;
  }
}
