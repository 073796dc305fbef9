import wavefile from 'wavefile';
import type { Pcm } from '../../engine/pcm.js';
import { sanitizeInPlace } from '../../engine/pcm.js';

const { WaveFile } = wavefile;

export interface WavInfo {
  sampleRate: number;
  channels: number;
}

const RIFF = 0x52494646; // "RIFF"
const WAVE = 0x57415645; // "WAVE"

/** True when the bytes start like a RIFF/WAVE file; the name of the upload is never trusted. */
export function looksLikeWav(head: Uint8Array): boolean {
  if (head.length < 12) return false;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return view.getUint32(0) === RIFF && view.getUint32(8) === WAVE;
}

/**
 * Parses a WAV file in process (no ffmpeg). Returns null for anything wavefile cannot read or that needs
 * ffmpeg's help (compressed WAV payloads, more than two channels, rates above 48 kHz), so the caller can fall
 * back to ffmpeg.
 */
export function readWav(bytes: Uint8Array): Pcm | null {
  let wav: InstanceType<typeof WaveFile>;
  try {
    wav = new WaveFile(bytes);
  } catch {
    return null;
  }
  const fmt = wav.fmt as { numChannels: number; sampleRate: number; audioFormat: number };
  const scale = sampleScale(wav.bitDepth, fmt.audioFormat);
  if (scale === null || fmt.numChannels < 1 || fmt.numChannels > 2 || fmt.sampleRate < 1 || fmt.sampleRate > 48000) {
    return null;
  }
  let raw: unknown;
  try {
    raw = wav.getSamples(false, Float32Array);
  } catch {
    return null;
  }
  const planar = (fmt.numChannels === 1 ? [raw] : raw) as Float32Array[];
  for (const channel of planar) {
    for (let i = 0; i < channel.length; i++) channel[i] = (channel[i] - scale.offset) / scale.divisor;
    sanitizeInPlace(channel);
  }
  return { sampleRate: fmt.sampleRate, channels: planar };
}

/**
 * Writes 16-bit PCM. Conversion is x·32768 rounded, the inverse of how 16-bit input is read, so a 16-bit WAV
 * that goes through untouched comes back with the same samples.
 */
export function encodeWav16(pcm: Pcm): Uint8Array {
  const frames = pcm.channels[0]?.length ?? 0;
  return Buffer.concat([wav16Header(pcm.sampleRate, pcm.channels.length, frames), interleave16(pcm, 0, frames)]);
}

/**
 * The canonical 44-byte header of a 16-bit PCM WAV. Written by hand rather than by wavefile: wavefile builds
 * the whole file as an array of JS numbers first, which took over 1 GB for a 10-minute stereo song and would
 * get a 512 MB Heroku dyno killed.
 */
export function wav16Header(sampleRate: number, channels: number, frames: number): Buffer {
  const dataBytes = frames * channels * 2;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** Frames `[start, end)` interleaved as 16-bit little-endian samples, ready to follow `wav16Header`. */
export function interleave16(pcm: Pcm, start: number, end: number): Buffer {
  const channels = pcm.channels.length;
  const out = Buffer.alloc((end - start) * channels * 2);
  let offset = 0;
  for (let f = start; f < end; f++) {
    for (let c = 0; c < channels; c++) {
      out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(pcm.channels[c][f] * 32768))), offset);
      offset += 2;
    }
  }
  return out;
}

function sampleScale(bitDepth: string, audioFormat: number): { offset: number; divisor: number } | null {
  const isFloat = audioFormat === 3 || bitDepth === '32f' || bitDepth === '64';
  if (isFloat) return { offset: 0, divisor: 1 };
  if (audioFormat !== 1 && audioFormat !== 65534) return null;
  const bits = Number(bitDepth);
  if (!Number.isInteger(bits) || bits < 8 || bits > 32) return null;
  // 8-bit WAV is unsigned; wider depths are signed.
  return bits === 8 ? { offset: 128, divisor: 128 } : { offset: 0, divisor: 2 ** (bits - 1) };
}
