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
 * header) so that nothing is resampled: a 16-bit WAV then comes back as the server reads it.
 */
export async function decodeSong(blob: Blob): Promise<DecodedSong> {
  const bytes = await blob.arrayBuffer();
  const rate = Math.min(MAX_RATE, headerRate(new DataView(bytes)) ?? 44_100);
  let buffer: AudioBuffer;
  try {
    buffer = await new OfflineAudioContext(1, 1, rate).decodeAudioData(bytes);
  } catch {
    throw new PreviewUnavailable('this browser cannot decode this file');
  }
  // More than two channels: the first two, where the server mixes all of them down to stereo.
  const count = Math.min(2, buffer.numberOfChannels);
  return { sampleRate: buffer.sampleRate, channels: Array.from({ length: count }, (_, c) => buffer.getChannelData(c)) };
}

/** The sample rate a WAV or FLAC header states; null for other containers. */
function headerRate(view: DataView): number | null {
  if (view.byteLength < 42) return null;
  const tag = (at: number) => String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
  if (tag(0) === 'RIFF' && tag(8) === 'WAVE') {
    for (let at = 12; at + 16 <= view.byteLength; at += 8 + view.getUint32(at + 4, true) + (view.getUint32(at + 4, true) % 2)) {
      if (tag(at) === 'fmt ') return view.getUint32(at + 12, true);
    }
    return null;
  }
  // STREAMINFO comes first in every FLAC file: 20 bits of rate after the block sizes and frame sizes.
  if (tag(0) === 'fLaC') return (view.getUint32(18) >>> 12) || null;
  return null;
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
