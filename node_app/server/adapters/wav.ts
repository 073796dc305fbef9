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
  const data = (wav.data as { samples: Uint8Array }).samples;
  const planar = deinterleave(data, wav.bitDepth, fmt.numChannels, scale) ?? unpackWithWavefile(wav, fmt.numChannels, scale);
  if (!planar) return null;
  for (const channel of planar) sanitizeInPlace(channel);
  return { sampleRate: fmt.sampleRate, channels: planar };
}

/**
 * Writes 16-bit PCM. Conversion is x·32768 rounded, the inverse of how 16-bit input is read, so a 16-bit WAV
 * that goes through untouched comes back with the same samples.
 */
export function encodeWav16(pcm: Pcm): Uint8Array {
  const frames = pcm.channels[0]?.length ?? 0;
  const bytes = new Uint8Array(WAV_HEADER_BYTES + frames * pcm.channels.length * 2);
  bytes.set(wav16Header(pcm), 0);
  packFrames16(pcm, 0, frames, new Int16Array(bytes.buffer, WAV_HEADER_BYTES, frames * pcm.channels.length));
  return bytes;
}

/**
 * The same bytes as `encodeWav16`, handed out a slice at a time, so a long song is written to disk without a
 * second copy of it in memory (a 10-minute stereo master is 100 MB; a dyno has 512).
 */
export function* encodeWav16Chunks(pcm: Pcm, framesPerChunk = 65_536): Generator<Uint8Array> {
  yield wav16Header(pcm);
  const frames = pcm.channels[0]?.length ?? 0;
  const scratch = new Int16Array(framesPerChunk * pcm.channels.length);
  for (let from = 0; from < frames; from += framesPerChunk) {
    const to = Math.min(frames, from + framesPerChunk);
    const packed = scratch.subarray(0, (to - from) * pcm.channels.length);
    packFrames16(pcm, from, to, packed);
    yield new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength);
  }
}

/** The canonical 44-byte header, the same one wavefile wrote when it did this job: 16-bit integer PCM. */
function wav16Header(pcm: Pcm): Uint8Array {
  const channelCount = pcm.channels.length;
  const dataBytes = (pcm.channels[0]?.length ?? 0) * channelCount * 2;
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, RIFF);
  view.setUint32(4, 36 + dataBytes, true);
  view.setUint32(8, WAVE);
  view.setUint32(12, FMT);
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, channelCount, true);
  view.setUint32(24, pcm.sampleRate, true);
  view.setUint32(28, pcm.sampleRate * channelCount * 2, true);
  view.setUint16(32, channelCount * 2, true);
  view.setUint16(34, 16, true);
  view.setUint32(36, DATA);
  view.setUint32(40, dataBytes, true);
  return header;
}

/**
 * Interleaves frames [from, to) into `out` as 16-bit integers. wavefile packed sample by sample through generic
 * codecs, which took seconds for a song; a typed array does the same in milliseconds. Int16Array is
 * little-endian on every machine this runs on (x86-64, arm64), as WAV is.
 */
function packFrames16(pcm: Pcm, from: number, to: number, out: Int16Array): void {
  const channelCount = pcm.channels.length;
  for (let c = 0; c < channelCount; c++) {
    const channel = pcm.channels[c];
    for (let i = from, o = c; i < to; i++, o += channelCount) {
      out[o] = Math.max(-32768, Math.min(32767, Math.round(channel[i] * 32768)));
    }
  }
}

const WAV_HEADER_BYTES = 44;
const FMT = 0x666d7420; // "fmt "
const DATA = 0x64617461; // "data"

interface SampleScale {
  offset: number;
  divisor: number;
}

/**
 * Reads the data chunk's interleaved samples straight into planar float32, for the layouts uploads actually
 * use. The arithmetic matches wavefile's `getSamples` into a Float32Array followed by scaling, so the samples
 * are the same; returns null for rarer layouts, which wavefile still handles.
 */
function deinterleave(data: Uint8Array, bitDepth: string, channelCount: number, scale: SampleScale): Float32Array[] | null {
  const width = BYTES_PER_SAMPLE[bitDepth];
  if (width === undefined) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const frames = Math.floor(data.byteLength / (width * channelCount));
  const read = SAMPLE_READERS[bitDepth];
  const { offset, divisor } = scale;
  return Array.from({ length: channelCount }, (_, c) => {
    const channel = new Float32Array(frames);
    for (let i = 0, at = c * width; i < frames; i++, at += width * channelCount) {
      // Math.fround: wavefile first stored each raw value in the Float32Array, then scaled it.
      channel[i] = (Math.fround(read(view, at)) - offset) / divisor;
    }
    return channel;
  });
}

const BYTES_PER_SAMPLE: Record<string, number> = { '8': 1, '16': 2, '24': 3, '32': 4, '32f': 4, '64': 8 };

const SAMPLE_READERS: Record<string, (view: DataView, at: number) => number> = {
  '8': (view, at) => view.getUint8(at),
  '16': (view, at) => view.getInt16(at, true),
  '24': (view, at) => (view.getInt8(at + 2) << 16) | view.getUint16(at, true),
  '32': (view, at) => view.getInt32(at, true),
  '32f': (view, at) => view.getFloat32(at, true),
  '64': (view, at) => view.getFloat64(at, true),
};

function unpackWithWavefile(wav: InstanceType<typeof WaveFile>, channelCount: number, scale: SampleScale): Float32Array[] | null {
  let raw: unknown;
  try {
    raw = wav.getSamples(false, Float32Array);
  } catch {
    return null;
  }
  const planar = (channelCount === 1 ? [raw] : raw) as Float32Array[];
  for (const channel of planar) {
    for (let i = 0; i < channel.length; i++) channel[i] = (channel[i] - scale.offset) / scale.divisor;
  }
  return planar;
}

function sampleScale(bitDepth: string, audioFormat: number): SampleScale | null {
  const isFloat = audioFormat === 3 || bitDepth === '32f' || bitDepth === '64';
  if (isFloat) return { offset: 0, divisor: 1 };
  if (audioFormat !== 1 && audioFormat !== 65534) return null;
  const bits = Number(bitDepth);
  if (!Number.isInteger(bits) || bits < 8 || bits > 32) return null;
  // 8-bit WAV is unsigned; wider depths are signed.
  return bits === 8 ? { offset: 128, divisor: 128 } : { offset: 0, divisor: 2 ** (bits - 1) };
}
