import type { MessagePort } from 'node:worker_threads';
import type { GeneratorBatch, StyleGenerator } from '../../../engine/enrich.js';

/**
 * Two workers on one part of a song: the part's own worker keeps the stream (mixing, cross-fades, the order of
 * windows) and hands every other window of each generator call to a spare worker over a MessagePort. Each
 * window is one run of the same model whichever worker runs it, so the samples are those of one worker alone,
 * and when the spare goes (handed to another song, or stopped) its windows simply run here again.
 */

/** One window, as `GeneratorBatch` rows of one. */
interface Row {
  audio: Float32Array;
  noise: Float32Array;
  texture?: Float32Array;
  styleVector: Float32Array;
}

interface RowReply {
  seq: number;
  wet: Float32Array;
}

function runRow(generator: StyleGenerator, { audio, noise, texture, styleVector }: Row): Promise<Float32Array> {
  return generator.generate({ audio: [audio], noise: [noise], styleVector, ...(texture ? { texture: [texture] } : {}) }).then(([wet]) => wet);
}

/** The part's side: `local` runs the even windows of a call, the spare behind `port` the odd ones while it is there. */
export function withSpare(local: StyleGenerator, port: MessagePort, signal: AbortSignal): StyleGenerator {
  const pending = new Map<number, { row: Row; resolve: (wet: Float32Array) => void; reject: (error: unknown) => void }>();
  let nextSeq = 0;
  let open = true;
  port.on('message', ({ seq, wet }: RowReply) => {
    pending.get(seq)?.resolve(wet);
    pending.delete(seq);
  });
  port.on('close', () => {
    open = false;
    for (const { row, resolve, reject } of pending.values()) runRow(local, row).then(resolve, reject);
    pending.clear();
  });
  signal.addEventListener('abort', () => {
    for (const { reject } of pending.values()) reject(signal.reason);
    pending.clear();
  }, { once: true });

  const remote = (row: Row): Promise<Float32Array> => {
    if (!open) return runRow(local, row);
    const seq = nextSeq++;
    const reply = new Promise<Float32Array>((resolve, reject) => pending.set(seq, { row, resolve, reject }));
    // Copied, not transferred: the rows are views into the stream's blocks, which stay as they are until this
    // call has its answer, so a window whose spare went can still run here.
    port.postMessage({ seq, ...row });
    return reply;
  };

  return {
    ...local,
    async generate(batch: GeneratorBatch) {
      signal.throwIfAborted();
      const rows = (parity: number) => batch.audio.flatMap((audio, b) => (b % 2 === parity ? [{ audio, noise: batch.noise[b], texture: batch.texture?.[b], styleVector: batch.styleVector }] : []));
      const odd = rows(1).map(remote);
      // Awaited below; if the local windows fail first, their rejections must not go unhandled meanwhile.
      for (const reply of odd) reply.catch(() => undefined);
      const even: Float32Array[] = [];
      for (const row of rows(0)) even.push(await runRow(local, row));
      const oddWet = await Promise.all(odd);
      return batch.audio.map((_, b) => (b % 2 === 0 ? even[b / 2] : oddWet[(b - 1) / 2]));
    },
  };
}

/**
 * The spare's side: runs each window it is sent, in order. `stop` closes the port (the part's worker then runs
 * the windows itself); once the port is closed, by either side, and the window in hand is done, `idle` is told
 * how many windows this spare ran.
 */
export function serveRows(generator: StyleGenerator, port: MessagePort, idle: (windows: number) => void): { stop: () => void } {
  let work = Promise.resolve();
  let windows = 0;
  port.on('message', (request: Row & { seq: number }) => {
    work = work
      .then(async () => {
        const wet = (await runRow(generator, request)).slice();
        windows++;
        port.postMessage({ seq: request.seq, wet } satisfies RowReply, [wet.buffer]);
      })
      .catch(() => port.close());
  });
  const done = () => idle(windows);
  port.on('close', () => void work.then(done, done));
  return { stop: () => port.close() };
}
