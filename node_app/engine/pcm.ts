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

/**
 * Frames [start, start + count) of `planar` as interleaved 16-bit samples in `out`, returned as bytes: x·32768
 * rounded and clamped: the server's master, an encoder fed as it is written, and the browser's preview alike.
 */
export function interleave16(planar: Float32Array[], start: number, count: number, out: Int16Array): Uint8Array {
  const channels = planar.length;
  for (let c = 0; c < channels; c++) {
    const source = planar[c];
    for (let i = 0; i < count; i++) {
      out[i * channels + c] = Math.max(-32768, Math.min(32767, Math.round(source[start + i] * 32768)));
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, count * channels * 2);
}

/** The canonical 44-byte header of a 16-bit PCM WAV of `frames` frames. */
export function wavHeader16(channels: number, sampleRate: number, frames: number, info: Uint8Array = new Uint8Array(0)): Uint8Array {
  const dataBytes = frames * channels * 2;
  const header = new DataView(new ArrayBuffer(44 + info.length));
  const ascii = (offset: number, text: string) => [...text].forEach((ch, i) => header.setUint8(offset + i, ch.charCodeAt(0)));
  ascii(0, 'RIFF');
  header.setUint32(4, 36 + info.length + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true); // integer PCM
  header.setUint16(22, channels, true);
  header.setUint32(24, sampleRate, true);
  header.setUint32(28, sampleRate * channels * 2, true);
  header.setUint16(32, channels * 2, true);
  header.setUint16(34, 16, true);
  // A chunk of tags (LIST/INFO) goes between the format and the samples, so the header keeps its length.
  new Uint8Array(header.buffer).set(info, 36);
  ascii(36 + info.length, 'data');
  header.setUint32(40 + info.length, dataBytes, true);
  return new Uint8Array(header.buffer);
}

/** A whole 16-bit WAV file of `planar`, as the server writes its master: the browser's preview plays it. */
export function encodeWav16(planar: Float32Array[], sampleRate: number): Uint8Array {
  const frames = planar[0]?.length ?? 0;
  const out = new Uint8Array(44 + frames * planar.length * 2);
  out.set(wavHeader16(planar.length, sampleRate, frames));
  out.set(interleave16(planar, 0, frames, new Int16Array(frames * planar.length)), 44);
  return out;
}

/** The mean of the channels, sample by sample. */
export function monoOf(channels: Float32Array[]): Float32Array {
  const mono = new Float32Array(channels[0]?.length ?? 0);
  for (const channel of channels) for (let i = 0; i < mono.length; i++) mono[i] += channel[i] / channels.length;
  return mono;
}
