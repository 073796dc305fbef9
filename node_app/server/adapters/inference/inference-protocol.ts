import type { MessagePort } from 'node:worker_threads';
import type { IntensityCurve } from '../../../engine/intensity.js';
import type { StyleBanks } from '../../../engine/texture.js';

/** Messages between the inference pool (main thread) and its workers. */
export interface EnrichRequest {
  amount: number;
  /** `amount` by song time (the engine's {@link IntensityCurve}); the whole amount throughout when absent. */
  intensity?: IntensityCurve;
  styleVector: Float32Array;
  seed: number;
  /** The user's own recording, as the engine's bank of the own style wants it (normaliseRecording). */
  ownTexture?: Int16Array;
  /** The recordings of the song's styles (BankCache), in shared memory: the message shares them, never copies. */
  banks?: StyleBanks;
}

/**
 * A song, or some of its channels, travels as a stream: `start`, then `chunk`s, then `end`. The worker answers
 * every chunk with one `output` (possibly empty) of the mixed, not yet limited samples, which doubles as the
 * acknowledgement the pool paces its sending by, and `end` with a last `output` and `done`. `channels` are the
 * song's channel numbers that the chunks hold.
 *
 * A song alone with a spare worker: the spare gets `serve` with one end of a channel and the part's worker gets
 * the other end as `start`'s `spare`; the part's worker then sends every other window there (spare-rows.ts).
 * When either end closes (the part is over, or `unserve` asks the spare back for another song; the part's worker
 * then runs the windows itself), the spare answers `served` (with how many windows it ran) once it is idle.
 */
export type ToWorker =
  | { type: 'start'; id: number; sampleRate: number; channels: number[]; request: EnrichRequest; spare?: MessagePort }
  | { type: 'serve'; id: number; port: MessagePort }
  | { type: 'unserve'; id: number }
  | { type: 'chunk'; id: number; channels: Float32Array[] }
  | { type: 'end'; id: number }
  | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'load-failed'; message: string }
  | { type: 'output'; id: number; channels: Float32Array[] }
  | { type: 'done'; id: number }
  | { type: 'failed'; id: number; message: string; aborted: boolean }
  | { type: 'served'; id: number; windows: number };

/** Each underlying buffer once: a transfer list that names one twice is rejected. */
export function transferList(channels: Float32Array[]): ArrayBuffer[] {
  return [...new Set(channels.map((c) => c.buffer as ArrayBuffer))];
}
