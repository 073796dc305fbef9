import { open, type FileHandle } from 'node:fs/promises';
import wavefile from 'wavefile';
import type { Pcm } from '../../../engine/pcm.js';
import { interleave16, sanitizeInPlace, wavHeader16 } from '../../../engine/pcm.js';

const { WaveFile } = wavefile;

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
  const layout = parseLayout(bytes, true);
  if (!layout) return null;
  const data = layout.wav.data as { samples: Uint8Array };
  const frames = Math.floor(data.samples.length / layout.frameBytes);
  const planar = Array.from({ length: layout.channels }, () => new Float32Array(frames));
  unpackFrames(data.samples, layout, planar, frames);
  return { sampleRate: layout.sampleRate, channels: planar };
}

/** How far into a file the headers in front of the samples may reach before we stop looking. */
const MAX_HEADER_BYTES = 1 << 20;
const READ_FRAMES = 65536;

/** A WAV file's samples, opened but not yet read. */
export interface WavSource {
  sampleRate: number;
  channels: number;
  frames: number;
  /** Frames [from, to) as planar slices of at most READ_FRAMES, read from disk as they are asked for. */
  slices(from: number, to: number): AsyncGenerator<Float32Array[]>;
}

/**
 * Opens a WAV file on disk without holding it in memory: wavefile parses the headers in front of the data
 * chunk, and the samples are read and unpacked a slice at a time when asked for, so a 10-minute upload never
 * sits in memory whole, neither as bytes nor as floats. Same samples as `readWav` on the same bytes; files
 * whose data chunk it cannot find near the start are parsed by `readWav` whole.
 */
export async function openWavFile(path: string): Promise<WavSource | null> {
  const file = await open(path, 'r');
  let layout: WavLayout | null;
  let start: number;
  let frames: number;
  try {
    const size = (await file.stat()).size;
    const located = await locateDataChunk(file, size);
    if (!located) return inMemorySource(readWav(await file.readFile()));
    layout = parseLayout(located.header, false);
    if (!layout) return null;
    start = located.header.length;
    // As wavefile cuts the chunk: its declared size padded to even, or what the file holds. A writer that
    // streams (a recorder, ffmpeg into a pipe) cannot go back to fill in the size and leaves 0 or 0xFFFFFFFF:
    // then the samples run to the end of the file.
    const declared = located.size === 0 || located.size === 0xffffffff ? size - start : located.size + (located.size % 2);
    const available = Math.min(declared, size - start);
    frames = Math.floor(Math.max(0, available) / layout.frameBytes);
  } finally {
    await file.close();
  }
  const found = layout;
  const dataStart = start;
  return {
    sampleRate: found.sampleRate,
    channels: found.channels,
    frames,
    async *slices(from, to) {
      const handle = await open(path, 'r');
      try {
        const slice = new Uint8Array(READ_FRAMES * found.frameBytes);
        for (let frame = Math.max(0, from); frame < Math.min(to, frames); frame += READ_FRAMES) {
          const count = Math.min(READ_FRAMES, Math.min(to, frames) - frame);
          const wanted = count * found.frameBytes;
          let got = 0;
          while (got < wanted) {
            const { bytesRead } = await handle.read(slice, got, wanted - got, dataStart + frame * found.frameBytes + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
          // A file cut short under our feet gives silence where its bytes were, as the whole-file reader did.
          const planar = Array.from({ length: found.channels }, () => new Float32Array(count));
          unpackFrames(slice.subarray(0, wanted), found, planar, Math.floor(got / found.frameBytes));
          yield planar;
        }
      } finally {
        await handle.close();
      }
    },
  };
}

function inMemorySource(pcm: Pcm | null): WavSource | null {
  if (!pcm) return null;
  const frames = pcm.channels[0]?.length ?? 0;
  return {
    sampleRate: pcm.sampleRate,
    channels: pcm.channels.length,
    frames,
    async *slices(from, to) {
      for (let frame = Math.max(0, from); frame < Math.min(to, frames); frame += READ_FRAMES) {
        const end = Math.min(to, frames, frame + READ_FRAMES);
        yield pcm.channels.map((c) => c.slice(frame, end));
      }
    },
  };
}

interface WavLayout {
  wav: InstanceType<typeof WaveFile>;
  reader: SampleReader;
  channels: number;
  sampleRate: number;
  frameBytes: number;
}

/** wavefile's reading of the headers, or null for what must go to ffmpeg (see `readWav`). */
function parseLayout(bytes: Uint8Array, withSamples: boolean): WavLayout | null {
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes, withSamples);
  } catch {
    return null;
  }
  const fmt = wav.fmt as { numChannels: number; sampleRate: number; audioFormat: number; bitsPerSample: number };
  const reader = sampleReader(fmt.audioFormat, fmt.bitsPerSample, wav.bitDepth);
  const channels = fmt.numChannels;
  if (!reader || channels < 1 || channels > 2 || fmt.sampleRate < 1 || fmt.sampleRate > 48000) return null;
  return { wav, reader, channels, sampleRate: fmt.sampleRate, frameBytes: reader.bytes * channels };
}

/** Frames [0, count) of `bytes` into the start of `planar`, with NaN and infinities silenced. */
function unpackFrames(bytes: Uint8Array, layout: WavLayout, planar: Float32Array[], count: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { reader, frameBytes } = layout;
  for (let c = 0; c < planar.length; c++) {
    const out = planar[c].subarray(0, count);
    for (let f = 0, at = c * reader.bytes; f < count; f++, at += frameBytes) out[f] = reader.read(view, at);
    sanitizeInPlace(out);
  }
}

/**
 * Walks the RIFF chunk headers from disk, as wavefile does in memory, up to the data chunk; returns the bytes
 * before its samples and its declared size, or null when it is not found within MAX_HEADER_BYTES.
 */
async function locateDataChunk(file: FileHandle, size: number): Promise<{ header: Uint8Array; size: number } | null> {
  const chunkHead = new Uint8Array(8);
  const view = new DataView(chunkHead.buffer);
  for (let at = 12; at + 8 <= Math.min(size, MAX_HEADER_BYTES); ) {
    await file.read(chunkHead, 0, 8, at);
    const chunkSize = view.getUint32(4, true);
    if (view.getUint32(0) === DATA) {
      const header = new Uint8Array(at + 8);
      await file.read(header, 0, header.length, 0);
      return { header, size: chunkSize };
    }
    at += 8 + chunkSize;
    if (at % 2) at++;
  }
  return null;
}

const DATA = 0x64617461; // "data"

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

/** A 16-bit WAV being written slice by slice; the header is filled in once the length is known. */
export interface WavWriter {
  write(channels: Float32Array[]): Promise<void>;
  /** Writes the header and closes the file. */
  close(): Promise<void>;
  /** Closes the file without finishing it, after a failure; the caller deletes it. */
  abort(): Promise<void>;
}

/**
 * Text a file carries about itself, in whatever way its format keeps it: a WAV's LIST/INFO chunk (INAM, ICMT,
 * ICOP), which ffmpeg reads as `title`, `comment` and `copyright` and carries into mp3's ID3 and FLAC's and
 * Ogg's Vorbis comments when it encodes the WAV.
 */
export interface MediaTags {
  title: string;
  comment: string;
  copyright: string;
}

/**
 * Writes 16-bit PCM, streamed. wavefile builds the whole file in memory (a 3-minute stereo song costs about
 * 190 MB and over a second that way), so only reading goes through it; the canonical header is small enough
 * to write here, and it goes in last, at offset 0, because a stream's length is known only at its end. Tags,
 * when given, go in a LIST/INFO chunk before the samples, so the header keeps its length. Conversion is
 * x·32768 rounded, the inverse of how 16-bit input is read, so a 16-bit WAV that goes through untouched comes
 * back with the same samples.
 */
export async function createWavWriter(path: string, channels: number, sampleRate: number, tags?: MediaTags): Promise<WavWriter> {
  const file = await open(path, 'w');
  const info = tags ? infoChunk(tags) : new Uint8Array(0);
  const headerOf = (frames: number) => wavHeader16(channels, sampleRate, frames, info);
  let frames = 0;
  let closed = false;
  const chunk = new Int16Array(CHUNK_FRAMES * channels);
  try {
    await file.write(headerOf(0));
  } catch (error) {
    await file.close();
    throw error;
  }
  return {
    async write(planar) {
      const total = planar[0]?.length ?? 0;
      for (let start = 0; start < total; start += CHUNK_FRAMES) {
        const count = Math.min(CHUNK_FRAMES, total - start);
        await file.write(interleave16(planar, start, count, chunk));
      }
      frames += total;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        const header = headerOf(frames);
        await file.write(header, 0, header.length, 0);
      } finally {
        await file.close();
      }
    },
    async abort() {
      if (closed) return;
      closed = true;
      await file.close();
    },
  };
}

/** RIFF INFO ids of the tags, as ffmpeg maps them (INAM title, ICMT comment, ICOP copyright). */
const INFO_IDS: Record<keyof MediaTags, string> = { title: 'INAM', comment: 'ICMT', copyright: 'ICOP' };

/** A LIST/INFO chunk: each tag as a NUL-terminated UTF-8 string, padded to an even length as RIFF requires. */
function infoChunk(tags: MediaTags): Uint8Array {
  const entries = (Object.keys(INFO_IDS) as (keyof MediaTags)[]).map((key) => {
    const text = new TextEncoder().encode(`${tags[key]}\0`);
    const padded = new Uint8Array(8 + text.length + (text.length % 2));
    const view = new DataView(padded.buffer);
    [...INFO_IDS[key]].forEach((ch, i) => view.setUint8(i, ch.charCodeAt(0)));
    view.setUint32(4, text.length, true);
    padded.set(text, 8);
    return padded;
  });
  const size = 4 + entries.reduce((sum, entry) => sum + entry.length, 0);
  const chunk = new Uint8Array(8 + size);
  const view = new DataView(chunk.buffer);
  [...'LISTINFO'].forEach((ch, i) => view.setUint8(i < 4 ? i : i + 4, ch.charCodeAt(0)));
  view.setUint32(4, size, true);
  let offset = 12;
  for (const entry of entries) {
    chunk.set(entry, offset);
    offset += entry.length;
  }
  return chunk;
}
