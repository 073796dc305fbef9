/** Messages between the inference pool (main thread) and its workers. */
export interface EnrichRequest {
  amount: number;
  style: Float32Array;
  seed: number;
}

export type ToWorker =
  | { type: 'enrich'; id: number; sampleRate: number; channels: Float32Array[]; request: EnrichRequest }
  | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'load-failed'; message: string }
  | { type: 'progress'; id: number; fraction: number }
  | { type: 'done'; id: number; channels: Float32Array[] }
  | { type: 'failed'; id: number; message: string; aborted: boolean };

/** Each underlying buffer once: a transfer list that names one twice is rejected. */
export function transferList(channels: Float32Array[]): ArrayBuffer[] {
  return [...new Set(channels.map((c) => c.buffer as ArrayBuffer))];
}
