import { open } from 'node:fs/promises';
import type { Pcm } from '../../engine/pcm.js';
import { frameCount } from '../../engine/pcm.js';
import { decoderFailed, tooLarge, unsupportedMedia } from '../errors.js';
import {
  decodeWithFfmpeg,
  encodeWithFfmpeg,
  FfmpegError,
  probeAudio,
  type CompressedFormat,
} from './ffmpeg.js';
import { looksLikeWav, readWavFile, writeWav16 } from './wav.js';

export type OutputFormat = 'wav' | CompressedFormat;

export interface DecodeOptions {
  startSeconds?: number;
  endSeconds?: number;
  maxSeconds: number;
  signal?: AbortSignal;
}

export interface AudioCodec {
  decode(path: string, options: DecodeOptions): Promise<Pcm>;
  writeWav(pcm: Pcm, path: string): Promise<void>;
  /** Writes `format` from a WAV master; for wav the master itself is the result. */
  transcode(wavPath: string, format: CompressedFormat, output: string): Promise<void>;
}

/** Above this the output is resampled: the models and most players top out at 48 kHz. */
export const MAX_SAMPLE_RATE = 48000;

/**
 * Decoding policy: WAV goes through wavefile in process; everything else, and WAV that wavefile cannot take,
 * through ffmpeg. The file's type is judged by its bytes, never by its name.
 */
export function createAudioCodec(ffmpegPath: string, timeoutMs: number): AudioCodec {
  return {
    async decode(path, options) {
      const wav = await tryWav(path);
      // ffmpeg cuts the section while decoding; the in-process WAV path cuts it here.
      const trimmed = wav ? trim(wav, options) : await decodeFfmpeg(ffmpegPath, path, options, timeoutMs);
      const frames = frameCount(trimmed);
      if (frames === 0) {
        throw unsupportedMedia('NO_AUDIO', 'The file decodes to no audio samples. Upload a recording with sound in it.');
      }
      if (frames / trimmed.sampleRate > options.maxSeconds) {
        throw tooLong(options.maxSeconds);
      }
      return trimmed;
    },

    writeWav: writeWav16,

    async transcode(wavPath, format, output) {
      await encodeWithFfmpeg(ffmpegPath, wavPath, format, output, timeoutMs);
    },
  };
}

async function tryWav(path: string): Promise<Pcm | null> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(12);
    await handle.read(head, 0, 12, 0);
    if (!looksLikeWav(head)) return null;
  } finally {
    await handle.close();
  }
  return readWavFile(path);
}

async function decodeFfmpeg(binary: string, path: string, options: DecodeOptions, timeoutMs: number): Promise<Pcm> {
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
  try {
    return await decodeWithFfmpeg(binary, path, {
      sampleRate,
      channels,
      startSeconds: options.startSeconds,
      maxSeconds,
      expectedSeconds: probe.durationSeconds === null ? null : Math.min(probe.durationSeconds, maxSeconds),
      timeoutMs,
      signal: options.signal,
    });
  } catch (error) {
    throw fromFfmpegError(error);
  }
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

function trim(pcm: Pcm, options: DecodeOptions): Pcm {
  if (options.startSeconds === undefined && options.endSeconds === undefined) return pcm;
  const from = Math.round((options.startSeconds ?? 0) * pcm.sampleRate);
  const to = options.endSeconds === undefined ? frameCount(pcm) : Math.round(options.endSeconds * pcm.sampleRate);
  return { sampleRate: pcm.sampleRate, channels: pcm.channels.map((c) => c.slice(from, Math.max(from, to))) };
}

function tooLong(maxSeconds: number) {
  return tooLarge('TOO_LONG', `The audio is longer than ${Math.round(maxSeconds)} seconds. Cut a section with start/end or upload a shorter file.`);
}
