/** Planar audio: one Float32Array per channel, all of the same length, samples in [-1, 1]. */
export interface Pcm {
  sampleRate: number;
  channels: Float32Array[];
}

export function frameCount(pcm: Pcm): number {
  return pcm.channels[0]?.length ?? 0;
}

/** Replaces NaN and ±Infinity with silence: a float WAV can carry them, and one would poison every window it touches. */
export function sanitizeInPlace(samples: Float32Array): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) samples[i] = 0;
  }
}

/** Joins planar slices into one array per channel. */
export function concatPlanar(parts: Float32Array[][], channelCount: number): Float32Array[] {
  return Array.from({ length: channelCount }, (_, c) => {
    const out = new Float32Array(parts.reduce((sum, p) => sum + p[c].length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p[c], at);
      at += p[c].length;
    }
    return out;
  });
}
