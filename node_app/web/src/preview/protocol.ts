import type { IntensityCurve } from '../../../engine/intensity';

/** Messages between the landing page and the preview's worker (preview.worker.ts). */

export interface PreviewRequest {
  /** The section to enrich, planar, at `sampleRate`: what the server would decode for the same start and end. */
  channels: Float32Array[];
  sampleRate: number;
  /** The `style` field as the API takes it. */
  style: string;
  amount: number;
  seed: number;
  /** The user's own recording, mixed to mono at its own rate, when the mix uses the style "own". */
  ownTexture?: { mono: Float32Array; sampleRate: number };
  /** The intensity curve, its first frame that of the section in the song: as the server applies it. */
  intensity?: IntensityCurve;
}

/** What the page is told while a preview is made. */
export type PreviewStage = 'runtime' | 'model' | 'sounds' | 'enriching';

export type ToPreviewWorker =
  /**
   * Load the runtime, the model and these styles' recordings, and run them once (see preview.worker.ts), while
   * the page is idle or still decodes the song.
   */
  | { type: 'prepare'; style: string; seed: number }
  | { type: 'make'; id: number; request: PreviewRequest };

/**
 * One step of the worker's work, as wall-clock milliseconds since the epoch (`performance.timeOrigin + now`), so
 * that the page and a test can lay the worker's steps beside their own.
 */
export interface PreviewSpan {
  name: string;
  start: number;
  end: number;
}

/** Where a preview's time went: every step the worker finished since the previous preview, loading included. */
export interface PreviewTimings {
  spans: PreviewSpan[];
}

export type FromPreviewWorker =
  | { type: 'progress'; id: number; stage: PreviewStage; fraction: number }
  /** Everything `prepare` asked for is loaded and has run once: a preview now takes only its own windows. */
  | { type: 'warm' }
  | { type: 'done'; id: number; wav: ArrayBuffer; timings: PreviewTimings }
  /** `unavailable`: this browser cannot run the preview at all (no WebAssembly, too little memory). */
  | { type: 'failed'; id: number; message: string; unavailable: boolean };
