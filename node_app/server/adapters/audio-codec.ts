import { open } from 'node:fs/promises';
import { concatPlanar, type Pcm } from '../../engine/pcm.js';
import { AppError, decoderFailed, tooLarge, unsupportedMedia } from '../errors.js';
import {
  encodeWithFfmpeg,
  streamWithFfmpeg,
  FfmpegError,
  probeAudio,
  type CompressedFormat,
} from './ffmpeg.js';
import { createWavWriter, looksLikeWav, openWavFile, type WavSource, type WavWriter } from './wav.js';

export type OutputFormat = 'wav' | CompressedFormat;

export interface DecodeOptions {
  startSeconds?: number;
  endSeconds?: number;
  maxSeconds: number;
  signal?: AbortSignal;
}

/**
 * A decoded upload as a stream of planar slices. Problems with the file as a whole are thrown by `decode`
 * itself; TOO_LONG and NO_AUDIO can also surface while reading, when only the decoder knows the length.
 */
export interface PcmStream {
  sampleRate: number;
  channels: number;
  /** How many frames are likely to come, for progress; null when nobody can tell. */
  expectedFrames: number | null;
  chunks: AsyncIterable<Float32Array[]>;
}

export interface AudioCodec {
  decode(path: string, options: DecodeOptions): Promise<PcmStream>;
  /** Starts a 16-bit WAV master that is written as the samples come. */
  writeWav(path: string, format: { sampleRate: number; channels: number }): Promise<WavWriter>;
  /** Writes `format` from a WAV master; for wav the master itself is the result. */
  transcode(wavPath: string, format: CompressedFormat, output: string): Promise<void>;
}

/** How far past the limit a probed duration must be before it is trusted to refuse a file unread. */
const EARLY_REJECT_MARGIN = 1.25;

/** Above this the output is resampled: the models and most players top out at 48 kHz. */
export const MAX_SAMPLE_RATE = 48000;

/**
 * Decoding policy: WAV is read in process; everything else, and WAV that the in-process reader cannot take,
 * through ffmpeg. The file's type is judged by its bytes, never by its name.
 */
export function createAudioCodec(ffmpegPath: string, timeoutMs: number): AudioCodec {
  return {
    async decode(path, options) {
      const wav = await tryWav(path);
      return wav ? wavSection(wav, options) : decodeFfmpeg(ffmpegPath, path, options, timeoutMs);
    },

    writeWav: (path, format) => createWavWriter(path, format.channels, format.sampleRate),

    async transcode(wavPath, format, output) {
      await encodeWithFfmpeg(ffmpegPath, wavPath, format, output, timeoutMs);
    },
  };
}

/** Reads a whole stream into memory: for tools and tests, not for the server. */
export async function collectPcm(stream: PcmStream): Promise<Pcm> {
  const parts: Float32Array[][] = [];
  for await (const chunk of stream.chunks) parts.push(chunk);
  return { sampleRate: stream.sampleRate, channels: concatPlanar(parts, stream.channels) };
}

async function tryWav(path: string): Promise<WavSource | null> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(12);
    await handle.read(head, 0, 12, 0);
    if (!looksLikeWav(head)) return null;
  } finally {
    await handle.close();
  }
  return openWavFile(path);
}

/** The in-process WAV path cuts the section itself (ffmpeg cuts it while decoding); its length is known up front. */
function wavSection(wav: WavSource, options: DecodeOptions): PcmStream {
  const from = Math.min(wav.frames, Math.round((options.startSeconds ?? 0) * wav.sampleRate));
  const end = options.endSeconds === undefined ? wav.frames : Math.round(options.endSeconds * wav.sampleRate);
  const to = Math.min(wav.frames, Math.max(from, end));
  checkLength(to - from, wav.sampleRate, options.maxSeconds, true);
  return { sampleRate: wav.sampleRate, channels: wav.channels, expectedFrames: to - from, chunks: wav.slices(from, to) };
}

function checkLength(frames: number, sampleRate: number, maxSeconds: number, complete: boolean): void {
  if (complete && frames === 0) {
    throw unsupportedMedia('NO_AUDIO', 'The file decodes to no audio samples. Upload a recording with sound in it.');
  }
  if (frames / sampleRate > maxSeconds) throw tooLong(maxSeconds);
}

async function decodeFfmpeg(binary: string, path: string, options: DecodeOptions, timeoutMs: number): Promise<PcmStream> {
  const probe = await probeAudio(binary, path, timeoutMs).catch((error: unknown) => {
    throw fromFfmpegError(error);
  });
  if (!probe) {
    throw unsupportedMedia('NOT_AUDIO', 'This file is not audio that can be decoded. Try mp3, wav, flac, ogg, m4a or webm.');
  }
  const sampleRate = Math.min(probe.sampleRate ?? 44100, MAX_SAMPLE_RATE);
  const channels = probe.channelLayout === 'mono' ? 1 : 2;
  const wanted = options.endSeconds !== undefined ? options.endSeconds - (options.startSeconds ?? 0) : Infinity;
  // One second more than allowed, so a file just over the limit is caught as too long rather than cut.
  const maxSeconds = Math.min(wanted, options.maxSeconds + 1);
  const sectionSeconds = probe.durationSeconds === null ? null : Math.min(probe.durationSeconds - (options.startSeconds ?? 0), wanted);
  // Refused before a sample is enriched when the header says clearly too long. The margin is for headers that
  // only estimate (an mp3 without a VBR header); near the limit, the decoder's own count below decides.
  if (sectionSeconds !== null && sectionSeconds > options.maxSeconds * EARLY_REJECT_MARGIN + 5) throw tooLong(options.maxSeconds);
  const expectedSeconds = sectionSeconds === null ? null : Math.min(sectionSeconds, maxSeconds);
  const decoderOptions = { sampleRate, channels, startSeconds: options.startSeconds, maxSeconds, timeoutMs, signal: options.signal } as const;
  async function* chunks(): AsyncGenerator<Float32Array[]> {
    let frames = 0;
    try {
      for await (const chunk of streamWithFfmpeg(binary, path, decoderOptions)) {
        frames += chunk[0].length;
        // Checked as the samples come, so a song that is too long fails without being decoded to the end.
        checkLength(frames, sampleRate, options.maxSeconds, false);
        yield chunk;
      }
    } catch (error) {
      throw error instanceof AppError ? error : fromFfmpegError(error);
    }
    checkLength(frames, sampleRate, options.maxSeconds, true);
  }
  return {
    sampleRate,
    channels,
    expectedFrames: expectedSeconds === null ? null : Math.max(0, Math.round(expectedSeconds * sampleRate)),
    chunks: chunks(),
  };
}

function fromFfmpegError(error: unknown): Error {
  if (error instanceof FfmpegError && error.reason === 'aborted') return Object.assign(error, { name: 'AbortError' });
  if (error instanceof FfmpegError && error.reason === 'timeout') {
    return unsupportedMedia('DECODE_TIMEOUT', 'Decoding this file took too long. Try a shorter or simpler file.');
  }
  // A dead decoder says nothing about the file; blaming the upload would send the user looking in the wrong place.
  if (error instanceof FfmpegError && error.reason === 'crashed') return decoderFailed();
  return unsupportedMedia('UNDECODABLE', 'The audio in this file could not be decoded; it may be damaged or truncated.');
}

function tooLong(maxSeconds: number) {
  return tooLarge('TOO_LONG', `The audio is longer than ${Math.round(maxSeconds)} seconds. Cut a section with start/end or upload a shorter file.`);
}
