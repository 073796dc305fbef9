import type { StyleSlot } from '../../../contract';
import type { ModelSignature } from '../../../engine/model-feeds';
import type { GrainSettings } from '../../../engine/texture';

/**
 * What the preview needs of models/manifest.json, written into the build by node_app/web/preview-assets.ts: the
 * same model file and the same recordings as the server, at content-hashed URLs (cached for good), and lengths in
 * samples at the model's rate, as the server's manifest reader turns them.
 */
export interface PreviewModel {
  version: string;
  sampleRate: number;
  defaultStyle: string;
  signature: ModelSignature;
  overlap: number;
  margin?: number;
  grains?: GrainSettings;
  /** The ONNX file and its size in bytes, for the progress shown while it loads. */
  model: { url: string; bytes: number };
  styles: PreviewStyle[];
}

export interface PreviewStyle extends StyleSlot {
  /** Its recordings, lengths in samples at the model's rate; none for a style made without recordings. */
  bank?: { bed: PreviewFile[]; events: PreviewFile[]; eventEvery: number; segment?: number };
}

/** A recording of a bank: a mono 16-bit FLAC, decoded in the browser to exactly the server's samples. */
export interface PreviewFile {
  url: string;
  bytes: number;
}
