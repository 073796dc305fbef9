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
  /** The intensity curve, its first frame that of the section in the song: as the server applies it. */
  intensity?: IntensityCurve;
}

/** What the page is told while a preview is made. */
export type PreviewStage = 'runtime' | 'model' | 'sounds' | 'enriching';

export type ToPreviewWorker =
  /** Start loading the runtime, the model and these styles' recordings while the page still decodes the song. */
  | { type: 'prepare'; style: string; seed: number }
  | { type: 'make'; id: number; request: PreviewRequest };

/** Where a preview's time went, in milliseconds: waiting for the runtime, model and recordings, then enriching. */
export interface PreviewTimings {
  loading: number;
  enriching: number;
}

export type FromPreviewWorker =
  | { type: 'progress'; id: number; stage: PreviewStage; fraction: number }
  | { type: 'done'; id: number; wav: ArrayBuffer; timings: PreviewTimings }
  /** `unavailable`: this browser cannot run the preview at all (no WebAssembly, too little memory). */
  | { type: 'failed'; id: number; message: string; unavailable: boolean };
