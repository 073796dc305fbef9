import type { FromPreviewWorker, PreviewRequest, PreviewStage, PreviewTimings, ToPreviewWorker } from './protocol';

/** How long the preview is, at most, in seconds. */
export const PREVIEW_SECONDS = 10;
/** Sections start on this grid, so that `start` is a short number of seconds that the server reads back exactly. */
const START_STEP_SECONDS = 0.5;
/** The server brings rates above this down to it (docs/api.md). */
const MAX_RATE = 48_000;

/** A song decoded by the browser, planar, at its own rate where the browser can tell it. */
export interface DecodedSong {
  sampleRate: number;
  channels: Float32Array[];
}

/** The part of the song the preview enriches: what `POST /api/enrich` gets as `start` and `end`. */
export interface PreviewSection {
  start: number;
  end: number;
}

/** Why there is no preview: this browser lacks something, or it cannot decode this file. */
export class PreviewUnavailable extends Error {
  override name = 'PreviewUnavailable';
}

/** Whether this browser has what the preview needs, before anything is loaded for it. */
export function previewSupported(): boolean {
  return typeof Worker === 'function' && typeof WebAssembly === 'object' && typeof OfflineAudioContext === 'function';
}

/**
 * Decodes the chosen file with the browser's own decoder, at the file's own rate (WAV and FLAC say it in their
 * header) so that nothing is resampled: a 16-bit WAV then comes back as the server reads it. More than two
 * channels are mixed to stereo as the server's ffmpeg mixes them ({@link toStereo}).
 */
export async function decodeSong(blob: Blob): Promise<DecodedSong> {
  const bytes = await blob.arrayBuffer();
  const header = readHeader(new DataView(bytes));
  const rate = Math.min(MAX_RATE, header.sampleRate ?? 44_100);
  let buffer: AudioBuffer;
  try {
    buffer = await new OfflineAudioContext(1, 1, rate).decodeAudioData(bytes);
  } catch {
    throw new PreviewUnavailable('this browser cannot decode this file');
  }
  const channels = Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c));
  return { sampleRate: buffer.sampleRate, channels: toStereo(channels, header.channelMask) };
}

/** What a WAV or FLAC header states: the sample rate, and a WAV's speakers; nulls for other containers. */
function readHeader(view: DataView): { sampleRate: number | null; channelMask: number | null } {
  const none = { sampleRate: null, channelMask: null };
  if (view.byteLength < 42) return none;
  const tag = (at: number) => String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
  if (tag(0) === 'RIFF' && tag(8) === 'WAVE') {
    for (let at = 12; at + 16 <= view.byteLength; at += 8 + view.getUint32(at + 4, true) + (view.getUint32(at + 4, true) % 2)) {
      if (tag(at) !== 'fmt ') continue;
      // WAVE_FORMAT_EXTENSIBLE names each channel's speaker in a mask after the 16 bytes every format has.
      const extensible = view.getUint16(at + 8, true) === 0xfffe && view.getUint32(at + 4, true) >= 40 && at + 32 <= view.byteLength;
      return { sampleRate: view.getUint32(at + 12, true), channelMask: extensible ? view.getUint32(at + 28, true) : null };
    }
    return none;
  }
  // STREAMINFO comes first in every FLAC file: 20 bits of rate after the block sizes and frame sizes.
  if (tag(0) === 'fLaC') return { sampleRate: view.getUint32(18) >>> 12 || null, channelMask: null };
  return none;
}

/** Speakers as WAVE_FORMAT_EXTENSIBLE's channel mask and ffmpeg's channel layouts number them. */
const FL = 0x1, FR = 0x2, FC = 0x4, LFE = 0x8, BL = 0x10, BR = 0x20, BC = 0x100, SL = 0x200, SR = 0x400;
/** The layout ffmpeg gives a file whose channels no header names (WAV without a mask, FLAC): by their count. */
const DEFAULT_LAYOUTS: Record<number, number[]> = {
  3: [FL, FR, LFE],
  4: [FL, FR, FC, BC],
  5: [FL, FR, FC, SL, SR],
  6: [FL, FR, FC, LFE, SL, SR],
  7: [FL, FR, FC, LFE, BC, SL, SR],
  8: [FL, FR, FC, LFE, BL, BR, SL, SR],
};
const HALF_POWER = Math.SQRT1_2;
/**
 * How much of each speaker ffmpeg's default mix to stereo puts left and right: the centre and the surrounds at
 * −3 dB, the back centre at −6 dB on both sides, the LFE not at all, and no normalising for float output.
 * Measured with ffmpeg 5.1 (`-ac 2`) for 3 to 8 channels.
 */
const TO_LEFT_RIGHT: Record<number, [number, number]> = {
  [FL]: [1, 0],
  [FR]: [0, 1],
  [FC]: [HALF_POWER, HALF_POWER],
  [LFE]: [0, 0],
  [BL]: [HALF_POWER, 0],
  [BR]: [0, HALF_POWER],
  [BC]: [0.5, 0.5],
  [SL]: [HALF_POWER, 0],
  [SR]: [0, HALF_POWER],
};

/**
 * More than two channels mixed to stereo as the server has ffmpeg do it (node_app/server/adapters/media): a
 * layout ffmpeg knows (named by a WAV's mask, or its default for 3 to 8 channels) by the weights above; more
 * channels than that, which ffmpeg will not name, as the server's own pan filter (`stereoMix`): the average of
 * the even channels left and of the odd ones right. One or two channels stay as they are.
 */
export function toStereo(channels: Float32Array[], channelMask: number | null = null): Float32Array[] {
  if (channels.length <= 2) return channels;
  const speakers = speakersOf(channelMask, channels.length) ?? DEFAULT_LAYOUTS[channels.length];
  const weights: Array<[number, number]> = speakers
    ? speakers.map((speaker) => TO_LEFT_RIGHT[speaker] ?? [0, 0])
    : channels.map((_, c) => {
        // As stereoMix writes its coefficients: 1/n to six decimals.
        const share = Number((1 / Math.ceil((channels.length - (c % 2)) / 2)).toFixed(6));
        return c % 2 === 0 ? [share, 0] : [0, share];
      });
  const frames = channels[0].length;
  return [0, 1].map((side) => {
    const out = new Float32Array(frames);
    channels.forEach((channel, c) => {
      const weight = weights[c][side];
      if (weight !== 0) for (let i = 0; i < frames; i++) out[i] += weight * channel[i];
    });
    return out;
  });
}

/** The speakers a WAV's mask names, in channel order, when it names one for each channel (else ffmpeg ignores it). */
function speakersOf(mask: number | null, count: number): number[] | null {
  if (!mask) return null;
  const speakers: number[] = [];
  for (let bit = 1; bit !== 0 && bit <= mask; bit = (bit << 1) >>> 0) if (mask & bit) speakers.push(bit);
  return speakers.length === count ? speakers : null;
}

/**
 * The section to preview: the chosen one (its first ten seconds), or else the liveliest ten seconds, where the
 * short-time level rises most often and most steeply (onsets), the loudness breaking ties.
 */
export function pickSection(song: DecodedSong, chosen: { start?: number; end?: number }): PreviewSection {
  const duration = song.channels[0].length / song.sampleRate;
  if (chosen.start !== undefined || chosen.end !== undefined) {
    const start = Math.min(chosen.start ?? 0, duration);
    return { start, end: Math.min(chosen.end ?? duration, start + PREVIEW_SECONDS, duration) };
  }
  if (duration <= PREVIEW_SECONDS) return { start: 0, end: duration };
  const frame = Math.round(song.sampleRate / 20);
  const levels = new Float64Array(Math.floor(song.channels[0].length / frame));
  for (let f = 0; f < levels.length; f++) {
    let power = 0;
    for (const channel of song.channels) for (let i = f * frame; i < (f + 1) * frame; i++) power += channel[i] * channel[i];
    levels[f] = Math.sqrt(power / (frame * song.channels.length));
  }
  const framesPerStep = Math.round(START_STEP_SECONDS * 20);
  const framesPerPreview = PREVIEW_SECONDS * 20;
  let best = { start: 0, score: -Infinity };
  for (let first = 0; first + framesPerPreview <= levels.length; first += framesPerStep) {
    let rises = 0;
    let loudness = 0;
    for (let f = first; f < first + framesPerPreview; f++) {
      loudness += levels[f];
      if (f > first) rises += Math.max(0, levels[f] - levels[f - 1]);
    }
    const score = rises + 0.1 * loudness;
    if (score > best.score) best = { start: (first / 20), score };
  }
  return { start: best.start, end: best.start + PREVIEW_SECONDS };
}

/** The section's samples, cut as the server cuts a WAV: frames from round(start · rate) to round(end · rate). */
export function sectionSamples(song: DecodedSong, section: PreviewSection): Float32Array[] {
  const from = Math.round(section.start * song.sampleRate);
  const to = Math.min(song.channels[0].length, Math.round(section.end * song.sampleRate));
  return song.channels.map((c) => c.slice(from, to));
}

export interface PreviewCallbacks {
  onProgress(stage: PreviewStage, fraction: number): void;
  onReady(wav: Blob, timings: PreviewTimings): void;
  onFailed(message: string, unavailable: boolean): void;
}

/**
 * The worker that makes previews; a new request replaces the one before it. The page has one, made on first use,
 * so that what it has loaded and compiled serves every preview until the page closes.
 */
export class PreviewMaker {
  private readonly worker: Worker;
  private id = 0;
  private listener: PreviewCallbacks | null = null;

  constructor() {
    this.worker = new Worker(new URL('./preview.worker.ts', import.meta.url), { type: 'module', name: 'preview' });
    this.worker.onmessage = (event: MessageEvent<FromPreviewWorker>) => {
      const message = event.data;
      // A User Timing mark: the profiler shows it, and the end-to-end test waits for it.
      if (message.type === 'warm') return performance.mark('preview warm');
      if (message.id !== this.id || !this.listener) return;
      if (message.type === 'progress') this.listener.onProgress(message.stage, message.fraction);
      else if (message.type === 'done') this.listener.onReady(new Blob([message.wav], { type: 'audio/wav' }), message.timings);
      else this.listener.onFailed(message.message, message.unavailable);
    };
    this.worker.onerror = () => this.listener?.onFailed('the preview could not start in this browser', true);
  }

  /** Sends what the worker says about previews to `callbacks` until the returned function is called. */
  listen(callbacks: PreviewCallbacks): () => void {
    this.listener = callbacks;
    return () => {
      if (this.listener === callbacks) this.listener = null;
    };
  }

  /** Starts loading and warming up what a preview in `style` needs, before its section is ready. */
  prepare(style: string, seed: number): void {
    const message: ToPreviewWorker = { type: 'prepare', style, seed };
    this.worker.postMessage(message);
  }

  make(request: PreviewRequest): void {
    const message: ToPreviewWorker = { type: 'make', id: ++this.id, request };
    this.worker.postMessage(message);
  }
}

let shared: PreviewMaker | null = null;

/** The page's preview worker; null where this browser cannot run it. */
export function previewMaker(): PreviewMaker | null {
  if (!previewSupported()) return null;
  return (shared ??= new PreviewMaker());
}
