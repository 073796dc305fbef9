import { open } from 'node:fs/promises';
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
 * Parses a WAV file in process (no ffmpeg): wavefile reads the header and cuts out the data chunk, and the
 * samples are unpacked from those bytes straight into planar floats (wavefile's own unpacking keeps several
 * copies of a song in memory). A header that promises more data than the file holds gets what is
 * there. Returns null for anything that needs ffmpeg's help instead: compressed WAV payloads, more than two
 * channels, rates above 48 kHz, or bytes wavefile cannot parse.
 */
export function readWav(bytes: Uint8Array): Pcm | null {
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch {
    return null;
  }
  const fmt = wav.fmt as { numChannels: number; sampleRate: number; audioFormat: number; bitsPerSample: number };
  const reader = sampleReader(fmt.audioFormat, fmt.bitsPerSample, wav.bitDepth);
  const channels = fmt.numChannels;
  if (!reader || channels < 1 || channels > 2 || fmt.sampleRate < 1 || fmt.sampleRate > 48000) return null;
  const data = (wav.data as { samples: Uint8Array }).samples;
  const frameBytes = reader.bytes * channels;
  const frames = Math.floor(data.length / frameBytes);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const planar = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let c = 0; c < channels; c++) {
    const out = planar[c];
    for (let f = 0, at = c * reader.bytes; f < frames; f++, at += frameBytes) out[f] = reader.read(view, at);
    sanitizeInPlace(out);
  }
  return { sampleRate: fmt.sampleRate, channels: planar };
}

interface SampleReader {
  bytes: number;
  read(view: DataView, at: number): number;
}

/** Integer PCM is scaled by 2^(bits-1) (8-bit is unsigned); float is taken as it is. */
function sampleReader(audioFormat: number, bits: number, bitDepth: string): SampleReader | null {
  const isFloat = audioFormat === 3 || bitDepth === '32f' || bitDepth === '64';
  if (isFloat) {
    if (bits === 32) return { bytes: 4, read: (v, at) => v.getFloat32(at, true) };
    if (bits === 64) return { bytes: 8, read: (v, at) => v.getFloat64(at, true) };
    return null;
  }
  if (audioFormat !== 1 && audioFormat !== 65534) return null;
  switch (bits) {
    case 8:
      return { bytes: 1, read: (v, at) => (v.getUint8(at) - 128) / 128 };
    case 16:
      return { bytes: 2, read: (v, at) => v.getInt16(at, true) / 32768 };
    case 24:
      return { bytes: 3, read: (v, at) => ((v.getInt8(at + 2) << 16) | (v.getUint8(at + 1) << 8) | v.getUint8(at)) / 8388608 };
    case 32:
      return { bytes: 4, read: (v, at) => v.getInt32(at, true) / 2147483648 };
    default:
      return null;
  }
}

const CHUNK_FRAMES = 65536;

/**
 * Writes 16-bit PCM, streamed in chunks. wavefile builds the whole file in memory (a 3-minute stereo song
 * costs about 190 MB and over a second that way), so only reading goes through it; the canonical 44-byte
 * header is small enough to write here. Conversion is x·32768 rounded, the inverse of how 16-bit input is
 * read, so a 16-bit WAV that goes through untouched comes back with the same samples.
 */
export async function writeWav16(pcm: Pcm, path: string): Promise<void> {
  const channels = pcm.channels.length;
  const frames = pcm.channels[0]?.length ?? 0;
  const file = await open(path, 'w');
  try {
    await file.write(wavHeader16(channels, pcm.sampleRate, frames));
    const chunk = new Int16Array(CHUNK_FRAMES * channels);
    for (let start = 0; start < frames; start += CHUNK_FRAMES) {
      const count = Math.min(CHUNK_FRAMES, frames - start);
      for (let c = 0; c < channels; c++) {
        const source = pcm.channels[c];
        for (let i = 0; i < count; i++) {
          chunk[i * channels + c] = Math.max(-32768, Math.min(32767, Math.round(source[start + i] * 32768)));
        }
      }
      await file.write(new Uint8Array(chunk.buffer, 0, count * channels * 2));
    }
  } finally {
    await file.close();
  }
}

function wavHeader16(channels: number, sampleRate: number, frames: number): Uint8Array {
  const dataBytes = frames * channels * 2;
  const header = new DataView(new ArrayBuffer(44));
  const ascii = (offset: number, text: string) => [...text].forEach((ch, i) => header.setUint8(offset + i, ch.charCodeAt(0)));
  ascii(0, 'RIFF');
  header.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true); // integer PCM
  header.setUint16(22, channels, true);
  header.setUint32(24, sampleRate, true);
  header.setUint32(28, sampleRate * channels * 2, true);
  header.setUint16(32, channels * 2, true);
  header.setUint16(34, 16, true);
  ascii(36, 'data');
  header.setUint32(40, dataBytes, true);
  return new Uint8Array(header.buffer);
}
