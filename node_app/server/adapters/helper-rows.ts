import type { MessagePort } from 'node:worker_threads';
import type { GeneratorBatch, StyleGenerator } from '../../engine/enrich.js';
import { transferList } from './inference-protocol.js';

/**
 * Two workers on one part of a song: the part's own worker keeps the stream (mixing, cross-fades, the order of
 * windows) and hands every other window of each generator call to a spare worker over a MessagePort. Each
 * window is one run of the same model whichever worker runs it, so the samples are those of one worker alone.
 */

interface RowRequest {
  seq: number;
  audio: Float32Array;
  noise: Float32Array;
  texture?: Float32Array;
  styleVector: Float32Array;
}

interface RowReply {
  seq: number;
  wet: Float32Array;
}

/** The part's side: `local` runs the even windows of a call, the spare behind `port` the odd ones. */
export function withHelper(local: StyleGenerator, port: MessagePort, signal: AbortSignal): StyleGenerator {
  const pending = new Map<number, { resolve: (wet: Float32Array) => void; reject: (error: unknown) => void }>();
  let nextSeq = 0;
  let stopped: unknown = null;
  const rejectAll = (error: unknown) => {
    stopped ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  port.on('message', ({ seq, wet }: RowReply) => {
    pending.get(seq)?.resolve(wet);
    pending.delete(seq);
  });
  port.on('close', () => rejectAll(new Error('the helping inference worker stopped')));
  signal.addEventListener('abort', () => rejectAll(signal.reason), { once: true });

  const remote = (batch: GeneratorBatch, b: number): Promise<Float32Array> => {
    if (stopped) return Promise.reject(stopped);
    const seq = nextSeq++;
    // The rows are views into the stream's reused blocks: the spare gets copies.
    const request: RowRequest = {
      seq,
      audio: batch.audio[b].slice(),
      noise: batch.noise[b].slice(),
      ...(batch.texture ? { texture: batch.texture[b].slice() } : {}),
      styleVector: batch.styleVector,
    };
    const reply = new Promise<Float32Array>((resolve, reject) => pending.set(seq, { resolve, reject }));
    port.postMessage(request, transferList([request.audio, request.noise, ...(request.texture ? [request.texture] : [])]));
    return reply;
  };

  return {
    ...local,
    async generate(batch) {
      const evenRows = (rows: Float32Array[]) => rows.filter((_, b) => b % 2 === 0);
      const odd = Array.from({ length: Math.floor(batch.audio.length / 2) }, (_, i) => remote(batch, 2 * i + 1));
      // Awaited below; if the local windows fail first, their rejections must not go unhandled meanwhile.
      for (const reply of odd) reply.catch(() => undefined);
      const even = await local.generate({
        audio: evenRows(batch.audio),
        noise: evenRows(batch.noise),
        styleVector: batch.styleVector,
        ...(batch.texture ? { texture: evenRows(batch.texture) } : {}),
      });
      const oddWet = await Promise.all(odd);
      return batch.audio.map((_, b) => (b % 2 === 0 ? even[b / 2] : oddWet[(b - 1) / 2]));
    },
  };
}

/**
 * The spare's side: runs each window it is sent, in order, and once the port closes and it is done calls `idle`
 * with the number of windows it ran.
 */
export function serveRows(generator: StyleGenerator, port: MessagePort, idle: (windows: number) => void): void {
  let work = Promise.resolve();
  let windows = 0;
  port.on('message', (request: RowRequest) => {
    work = work.then(async () => {
      const [wet] = await generator.generate({
        audio: [request.audio],
        noise: [request.noise],
        styleVector: request.styleVector,
        ...(request.texture ? { texture: [request.texture] } : {}),
      });
      const copy = wet.slice();
      windows++;
      port.postMessage({ seq: request.seq, wet: copy } satisfies RowReply, [copy.buffer]);
    }).catch(() => port.close()); // the part's worker sees the port close and fails the song
  });
  const done = () => idle(windows);
  port.on('close', () => void work.then(done, done));
}
