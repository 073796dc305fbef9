import { open } from 'node:fs/promises';
import type { CompressedFormat } from '../../../contract/index.js';
import { ffmpegVersion } from './ffmpeg/binary.js';
import { streamWithFfmpeg } from './ffmpeg/decode.js';
import { encodeWithFfmpeg, streamEncodeWithFfmpeg, type PcmEncoder } from './ffmpeg/encode.js';
import { describeContainer, type PcmLayout } from './ffmpeg/policy.js';
import { probeAudio } from './ffmpeg/probe.js';
import { FfmpegError, type FfmpegFailure } from './ffmpeg/run.js';
import { isAbortError } from '../../errors.js';
import { MediaError, type MediaProblem } from './media-error.js';
import { ProcessLauncher } from './process-launcher.js';
import { createWavWriter, looksLikeWav, openWavFile, type MediaTags, type WavSource, type WavWriter } from './wav.js';

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
  /** Whether an ffmpeg decodes it (every format but the WAV read in process). */
  viaFfmpeg: boolean;
}

export interface AudioCodec {
  decode(path: string, options: DecodeOptions): Promise<PcmStream>;
  /** Starts a 16-bit WAV master that is written as the samples come, with `tags` in its INFO chunk. */
  writeWav(path: string, format: { sampleRate: number; channels: number }, tags?: MediaTags): Promise<WavWriter>;
  /** Writes `format` from a WAV master; for wav the master itself is the result. Settles once ffmpeg has exited. */
  transcode(wavPath: string, format: CompressedFormat, output: string, signal?: AbortSignal): Promise<void>;
  /** Writes `format` from samples as they come, with the same bytes as `transcode` of their 16-bit master written with `tags`. */
  encodeStream(layout: PcmLayout, format: CompressedFormat, output: string, signal?: AbortSignal, tags?: MediaTags): PcmEncoder;
  /** ffmpeg's first line of `-version`; rejects when it cannot be run. */
  ffmpegVersion(): Promise<string>;
  /** Stops ffmpeg's launcher; decodes and encodes still running are killed. */
  close(): Promise<void>;
}

export interface CodecOptions {
  ffmpegPath: string;
  /** Time a decode may spend waiting for ffmpeg, and an encode may take, in all. */
  timeoutMs: number;
  /** Wall time ffmpeg may go without output; also the limit for reading a file's header. */
  stallTimeoutMs: number;
  /** The launcher every ffmpeg starts from; without one the codec starts its own. Closing the codec closes it. */
  launcher?: ProcessLauncher;
}

/** Encoders run below normal priority: they serve a download that can wait, beside requests that cannot. */
const ENCODE_NICENESS = 10;

/** How far past the limit a probed duration must be before it is trusted to refuse a file unread. */
const EARLY_REJECT_MARGIN = 1.25;

/** Above this the output is resampled: the models and most players top out at 48 kHz. */
export const MAX_SAMPLE_RATE = 48000;

/**
 * Decoding policy: WAV is read in process; everything else, and WAV that the in-process reader cannot take,
 * through ffmpeg. The file's type is judged by its bytes, never by its name.
 */
export function createAudioCodec(codecOptions: CodecOptions): AudioCodec {
  const launcher = codecOptions.launcher ?? new ProcessLauncher();
  launcher.start();
  return {
    async decode(path, options) {
      const wav = await tryWav(path);
      return wav ? wavSection(wav, options) : decodeFfmpeg(launcher, path, options, codecOptions);
    },

    writeWav: (path, format, tags) => createWavWriter(path, format.channels, format.sampleRate, tags),

    async transcode(wavPath, format, output, signal) {
      const { ffmpegPath, timeoutMs } = codecOptions;
      await encodeWithFfmpeg(launcher, ffmpegPath, wavPath, format, output, { timeoutMs, signal, niceness: ENCODE_NICENESS }).catch((error: unknown) => {
        throw fromEncodeError(error);
      });
    },

    encodeStream(layout, format, output, signal, tags) {
      const { ffmpegPath, timeoutMs } = codecOptions;
      const encoder = streamEncodeWithFfmpeg(launcher, ffmpegPath, layout, format, output, { timeoutMs, signal, niceness: ENCODE_NICENESS, tags: tags ? { ...tags } : undefined });
      const mapped = <T>(work: Promise<T>): Promise<T> =>
        work.catch((error: unknown) => {
          throw fromEncodeError(error);
        });
      return {
        write: (channels) => mapped(encoder.write(channels)),
        close: () => mapped(encoder.close()),
        abort: () => encoder.abort(),
      };
    },

    ffmpegVersion: () => ffmpegVersion(launcher, codecOptions.ffmpegPath, Math.min(codecOptions.stallTimeoutMs, 10_000)),

    close: () => launcher.close(),
  };
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
  if (options.startSeconds && from >= wav.frames && wav.frames > 0) throw startPastEnd(wav.frames / wav.sampleRate);
  const end = options.endSeconds === undefined ? wav.frames : Math.round(options.endSeconds * wav.sampleRate);
  const to = Math.min(wav.frames, Math.max(from, end));
  checkLength(to - from, wav.sampleRate, options.maxSeconds, true);
  return { sampleRate: wav.sampleRate, channels: wav.channels, expectedFrames: to - from, chunks: wav.slices(from, to), viaFfmpeg: false };
}

function checkLength(frames: number, sampleRate: number, maxSeconds: number, complete: boolean): void {
  if (complete && frames === 0) {
    throw new MediaError('no-audio', 'the file decodes to no audio samples');
  }
  if (frames / sampleRate > maxSeconds) throw tooLong(maxSeconds);
}

async function decodeFfmpeg(
  launcher: ProcessLauncher,
  path: string,
  options: DecodeOptions,
  { ffmpegPath: binary, timeoutMs, stallTimeoutMs }: CodecOptions,
): Promise<PcmStream> {
  const probe = await probeAudio(launcher, binary, path, Math.min(timeoutMs, stallTimeoutMs)).catch((error: unknown) => {
    throw fromFfmpegError(error);
  });
  if (probe.kind === 'refused') {
    // A picture is refused for the same reason as a playlist, but what the user needs to hear is that it is not audio.
    if (probe.demuxer && /^image2|_pipe\b/.test(probe.demuxer)) throw new MediaError('not-audio', `ffmpeg reads the file as ${probe.demuxer}`);
    throw new MediaError('unsupported-container', `ffmpeg reads the file as ${probe.demuxer ?? 'a container outside the whitelist'}`, {
      container: describeContainer(probe.demuxer),
    });
  }
  if (probe.kind === 'not-audio') throw new MediaError('not-audio', 'ffmpeg finds no audio stream in the file');
  const sampleRate = Math.min(probe.sampleRate ?? 44100, MAX_SAMPLE_RATE);
  const channels = probe.channelLayout === 'mono' ? 1 : 2;
  // ffmpeg mixes named layouts (5.1, 7.1) down by itself but refuses "9 channels": those get a mix of our own.
  const unnamed = /^(\d+) channels$/.exec(probe.channelLayout);
  const wanted = options.endSeconds !== undefined ? options.endSeconds - (options.startSeconds ?? 0) : Infinity;
  // One second more than allowed, so a file just over the limit is caught as too long rather than cut.
  const maxSeconds = Math.min(wanted, options.maxSeconds + 1);
  const sectionSeconds = probe.durationSeconds === null ? null : Math.min(probe.durationSeconds - (options.startSeconds ?? 0), wanted);
  // Refused before a sample is enriched when the header says clearly too long. The margin is for headers that
  // only estimate (an mp3 without a VBR header); near the limit, the decoder's own count below decides.
  if (sectionSeconds !== null && sectionSeconds > options.maxSeconds * EARLY_REJECT_MARGIN + 5) throw tooLong(options.maxSeconds);
  const expectedSeconds = sectionSeconds === null ? null : Math.min(sectionSeconds, maxSeconds);
  const decoderOptions = {
    sampleRate,
    channels,
    demuxer: probe.demuxer,
    mixChannels: unnamed ? Number(unnamed[1]) : undefined,
    startSeconds: options.startSeconds,
    maxSeconds,
    timeoutMs,
    stallTimeoutMs,
    signal: options.signal,
  } as const;
  const duration = probe.durationSeconds;
  async function* chunks(): AsyncGenerator<Float32Array[]> {
    let frames = 0;
    try {
      for await (const chunk of streamWithFfmpeg(launcher, binary, path, decoderOptions)) {
        frames += chunk[0].length;
        // Checked as the samples come, so a song that is too long fails without being decoded to the end.
        checkLength(frames, sampleRate, options.maxSeconds, false);
        yield chunk;
      }
    } catch (error) {
      throw error instanceof MediaError ? error : fromFfmpegError(error);
    }
    if (frames === 0 && options.startSeconds && duration !== null && options.startSeconds >= duration) throw startPastEnd(duration);
    checkLength(frames, sampleRate, options.maxSeconds, true);
  }
  return {
    sampleRate,
    channels,
    expectedFrames: expectedSeconds === null ? null : Math.max(0, Math.round(expectedSeconds * sampleRate)),
    chunks: chunks(),
    viaFfmpeg: true,
  };
}

/**
 * What each way ffmpeg fails means for a decode and for an encode. A crash while decoding is this file's doing
 * (the same file crashes it every time); a kill from outside is not.
 */
const DECODE_PROBLEMS: Record<FfmpegFailure, MediaProblem> = {
  timeout: 'decode-timeout',
  killed: 'decoder-killed',
  unavailable: 'ffmpeg-unavailable',
  crashed: 'undecodable',
  failed: 'undecodable',
  'disk-full': 'undecodable',
};
const ENCODE_PROBLEMS: Record<FfmpegFailure, MediaProblem> = {
  timeout: 'encode-timeout',
  unavailable: 'ffmpeg-unavailable',
  'disk-full': 'disk-full',
  killed: 'encode-failed',
  crashed: 'encode-failed',
  failed: 'encode-failed',
};

function fromFfmpegError(error: unknown): Error {
  if (isAbortError(error)) return error;
  if (!(error instanceof FfmpegError)) return new MediaError('undecodable', error instanceof Error ? error.message : String(error));
  return new MediaError(DECODE_PROBLEMS[error.reason], error.message);
}

function fromEncodeError(error: unknown): Error {
  if (!(error instanceof FfmpegError)) return error instanceof Error ? error : new Error(String(error));
  return new MediaError(ENCODE_PROBLEMS[error.reason], error.message);
}

function startPastEnd(durationSeconds: number): MediaError {
  return new MediaError('start-past-end', 'start is past the end of the audio', { limitSeconds: durationSeconds });
}

function tooLong(maxSeconds: number): MediaError {
  return new MediaError('too-long', `the audio is longer than ${maxSeconds} seconds`, { limitSeconds: maxSeconds });
}
