import { MessageChannel, Worker } from 'node:worker_threads';
import type { Logger } from '../../logger.js';
import { allChannels, SongLimiter } from '../../../engine/enrich.js';
import type { BankCache } from './bank-cache.js';
import { transferList, type EnrichRequest, type FromWorker, type ToWorker } from './inference-protocol.js';

export type { EnrichRequest };

export interface EnrichHooks {
  signal?: AbortSignal;
}

/** A song as it is decoded: its format and its planar slices. */
export interface PcmInput {
  sampleRate: number;
  channels: number;
  chunks: AsyncIterable<Float32Array[]>;
}

export type PoolState = { status: 'loading' } | { status: 'ready' } | { status: 'failed'; message: string };

interface Task {
  input: PcmInput;
  request: EnrichRequest;
  /** The workers' shares of the song, one per worker; empty while the task waits for one. */
  parts: Part[];
  /** Runs here, over the parts' answers joined: it links all of the song's channels. */
  limiter: SongLimiter;
  /** Frames of each chunk the workers have not all answered yet, oldest first. */
  inFlight: number[];
  /** Enriched slices the consumer has not taken yet. */
  outputs: Float32Array[][];
  done: boolean;
  error: Error | null;
  /** Resolves the current wait of the pump or the consumer; replaced after every change. */
  wake: () => void;
  /** Settles once no worker is working on the task any more. */
  released: Promise<void>;
  release: () => void;
}

/** Some of a song's channels on one worker. */
interface Part {
  id: number;
  task: Task;
  /** The worker working on it; null once it has let go. */
  slot: Slot | null;
  channels: number[];
  /** Mixed slices the worker has answered, waiting for the other parts' answers to the same chunks. */
  answers: Float32Array[][];
  done: boolean;
  /** A spare worker running every other window of this part; null when there is none, or once it is idle again. */
  spare: Slot | null;
}

// How far the decoder may run ahead of the worker, and the worker ahead of the WAV writer: enough to keep the
// worker busy between messages, small enough that memory is bounded by a few windows and not by the song.
const MAX_FRAMES_IN_FLIGHT = 1 << 17;
const MAX_OUTPUTS_WAITING = 4;

interface Slot {
  worker: Worker;
  part: Part | null;
}

/**
 * Worker threads that each hold one ONNX Runtime session and mix one song's channels at a time. A song that
 * finds no other waiting spreads its channels over the idle workers (a stereo song alone uses two cores); the
 * workers' answers are joined here and limited. Each channel's samples do not depend on which worker mixed it,
 * so the bytes are the same however the song was split.
 */
export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Task[] = [];
  private nextId = 1;
  private closing = false;
  private currentState: PoolState = { status: 'loading' };
  readonly ready: Promise<void>;

  constructor(
    private readonly modelsDir: string,
    /** The styles' recordings, read for the songs that use them, in shared memory that every worker reads. */
    private readonly banks: BankCache,
    size: number,
    private readonly logger: Logger,
  ) {
    const loads = Array.from({ length: size }, () => this.spawn());
    this.ready = Promise.all(loads).then(
      () => {
        this.currentState = { status: 'ready' };
      },
      (error: Error) => {
        this.currentState = { status: 'failed', message: error.message };
        throw error;
      },
    );
    // Failure is reported through `state`; nobody has to await `ready` for the process to stay up.
    this.ready.catch(() => undefined);
  }

  get state(): PoolState {
    return this.currentState;
  }

  /**
   * Enriches a stream: slices go to a worker as the decoder delivers them and come back as they are finished.
   * Stopping the iteration early cancels the work in the worker and stops the decoder.
   */
  async *enrichStream(input: PcmInput, request: EnrichRequest, hooks: EnrichHooks = {}): AsyncGenerator<Float32Array[]> {
    const held = await this.banks.acquire(request.styleVector);
    try {
      yield* this.run(input, { ...request, banks: held.banks }, hooks);
    } finally {
      held.release();
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private async *run(input: PcmInput, request: EnrichRequest, hooks: EnrichHooks): AsyncGenerator<Float32Array[]> {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const task: Task = {
      input,
      request,
      parts: [],
      limiter: new SongLimiter(input.sampleRate, input.channels, request.amount),
      inFlight: [],
      outputs: [],
      done: false,
      error: null,
      wake: () => undefined,
      released,
      release,
    };
    const onAbort = () => this.fail(task, hooks.signal?.reason);
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    this.waiting.push(task);
    this.dispatch();
    try {
      if (hooks.signal?.aborted) onAbort();
      for (;;) {
        if (task.error) throw task.error;
        const next = task.outputs.shift();
        if (next) {
          this.notify(task);
          yield next;
        } else if (task.done) {
          return;
        } else {
          await this.changed(task);
        }
      }
    } finally {
      hooks.signal?.removeEventListener('abort', onAbort);
      if (!task.done) this.fail(task, new DOMException('the reader stopped', 'AbortError'));
      // A job counts as over only once its workers have let go of it: shutting down terminates the workers,
      // and a worker terminated in the middle of a model call takes the process down with it.
      await task.released;
    }
  }

  private spawn(): Promise<void> {
    const worker = startWorker(new URL('./inference.worker', import.meta.url), { modelsDir: this.modelsDir });
    const slot: Slot = { worker, part: null };

    return new Promise((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          this.slots.push(slot);
          resolve();
          this.dispatch();
        } else if (message.type === 'load-failed') {
          reject(new Error(`model could not be loaded: ${message.message}`));
        } else {
          this.onPartMessage(slot, message);
        }
      });
      worker.on('error', (error) => this.logger.error({ err: error }, 'inference worker error'));
      worker.on('exit', (code) => {
        reject(new Error(`inference worker exited with code ${code} while loading`));
        this.onExit(slot, code);
      });
    });
  }

  private onPartMessage(slot: Slot, message: Exclude<FromWorker, { type: 'ready' | 'load-failed' }>): void {
    const part = slot.part;
    if (!part || part.id !== message.id) return;
    const { task } = part;
    if (message.type === 'served') {
      this.logger.debug({ windows: message.windows }, 'spare inference worker done');
      part.spare = null;
      slot.part = null;
      this.releaseIfIdle(task);
      this.dispatch();
      return;
    }
    if (message.type === 'output') {
      part.answers.push(message.channels);
      this.join(task);
      return;
    }
    this.letGo(part);
    if (message.type === 'done') {
      part.done = true;
      if (!task.error && task.parts.every((p) => p.done)) {
        task.outputs.push(task.limiter.finish());
        task.done = true;
        this.notify(task);
      }
    } else {
      this.fail(task, message.aborted ? new DOMException(message.message, 'AbortError') : new Error(message.message));
    }
    this.dispatch();
  }

  /** Passes on every chunk that all parts have answered: their channels joined in the song's order, limited. */
  private join(task: Task): void {
    while (task.parts.every((part) => part.answers.length > 0)) {
      const mixed: Float32Array[] = new Array<Float32Array>(task.input.channels);
      for (const part of task.parts) {
        const answer = part.answers.shift()!;
        part.channels.forEach((channel, i) => {
          mixed[channel] = answer[i];
        });
      }
      task.inFlight.shift();
      if (task.error) continue;
      const limited = task.limiter.push(mixed);
      if ((limited[0]?.length ?? 0) > 0) task.outputs.push(limited);
    }
    this.notify(task);
  }

  /** The part's worker is free again; the task is released once none of its workers is on it. */
  private letGo(part: Part): void {
    if (part.slot) part.slot.part = null;
    part.slot = null;
    this.releaseIfIdle(part.task);
  }

  private releaseIfIdle(task: Task): void {
    if (task.parts.every((p) => !p.slot && !p.spare)) task.release();
  }

  private onExit(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    const part = slot.part;
    if (part) {
      if (part.spare === slot) {
        // A spare: the part's worker sees its port to this one close and runs the windows itself.
        part.spare = null;
        this.releaseIfIdle(part.task);
      } else {
        this.fail(part.task, new Error(`inference worker stopped unexpectedly (exit code ${code})`));
        this.letGo(part);
      }
    }
    if (!this.closing) {
      this.logger.warn({ code }, 'inference worker exited; starting a new one');
      this.spawn().catch((error: Error) => this.logger.error({ err: error }, 'could not restart inference worker'));
    }
  }

  private dispatch(): void {
    for (;;) {
      const idle = this.slots.filter((slot) => !slot.part);
      const task = this.waiting[0];
      if (!task) return;
      if (idle.length === 0) {
        // A song waits: spares go back to the pool (their parts run those windows themselves from then on).
        for (const slot of this.slots) {
          if (slot.part?.spare === slot) slot.worker.postMessage({ type: 'unserve', id: slot.part.id } satisfies ToWorker);
        }
        return;
      }
      this.waiting.shift();
      // Alone, a song takes a worker per channel while there are idle ones, and a spare worker beside each of
      // those while any are left (a mono song alone uses both cores); with others waiting, one worker each.
      const alone = this.waiting.length === 0;
      const share = alone ? Math.min(idle.length, task.input.channels) : 1;
      const spares = alone ? idle.slice(share) : [];
      task.parts = idle.slice(0, share).map((slot, index) => {
        const channels = allChannels(task.input.channels).filter((c) => c % share === index);
        const spare = spares[index] ?? null;
        const part: Part = { id: this.nextId++, task, slot, channels, answers: [], done: false, spare };
        slot.part = part;
        const { sampleRate } = task.input;
        const start: ToWorker = { type: 'start', id: part.id, sampleRate, channels, request: task.request };
        if (spare) {
          const { port1, port2 } = new MessageChannel();
          spare.part = part;
          spare.worker.postMessage({ type: 'serve', id: part.id, port: port2 } satisfies ToWorker, [port2]);
          slot.worker.postMessage({ ...start, spare: port1 } satisfies ToWorker, [port1]);
        } else {
          slot.worker.postMessage(start);
        }
        return part;
      });
      void this.pump(task);
    }
  }

  /** Feeds the decoder's slices to the workers, pausing while they or the consumer are behind. */
  private async pump(task: Task): Promise<void> {
    const chunks = task.input.chunks[Symbol.asyncIterator]();
    try {
      for (;;) {
        while (!task.error && (sum(task.inFlight) >= MAX_FRAMES_IN_FLIGHT || task.outputs.length >= MAX_OUTPUTS_WAITING)) {
          await this.changed(task);
        }
        if (task.error) return;
        const next = await chunks.next();
        if (task.error) return;
        if (next.done) {
          for (const part of task.parts) part.slot?.worker.postMessage({ type: 'end', id: part.id } satisfies ToWorker);
          return;
        }
        task.inFlight.push(next.value[0]?.length ?? 0);
        // The slices move to the workers rather than being copied; the enriched ones come back the same way.
        for (const part of task.parts) {
          const channels = part.channels.map((c) => next.value[c]);
          part.slot?.worker.postMessage({ type: 'chunk', id: part.id, channels } satisfies ToWorker, transferList(channels));
        }
      }
    } catch (error) {
      this.fail(task, error instanceof Error ? error : new Error(String(error)));
    } finally {
      // Stops the decoder (and kills ffmpeg) when the song will not be read to its end.
      if (task.error) await chunks.return?.().catch(() => undefined);
    }
  }

  /** Ends the task with `error` unless it has already ended; workers still on it are told to stop. */
  private fail(task: Task, error: Error): void {
    if (task.done || task.error) return;
    task.error = error;
    task.outputs.length = 0;
    const queued = this.waiting.indexOf(task);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      task.release();
    }
    for (const part of task.parts) part.slot?.worker.postMessage({ type: 'cancel', id: part.id } satisfies ToWorker);
    this.notify(task);
  }

  private changed(task: Task): Promise<void> {
    return new Promise((resolve) => {
      const previous = task.wake;
      task.wake = () => {
        previous();
        resolve();
      };
    });
  }

  private notify(task: Task): void {
    const wake = task.wake;
    task.wake = () => undefined;
    wake();
  }
}

function sum(values: number[]): number {
  return values.reduce((total, v) => total + v, 0);
}

/**
 * Compiled, the worker is a .js file beside this one. From TypeScript sources (tests, `npm run enrich`) the
 * worker thread has no TypeScript loader of its own, so it registers tsx before importing the worker.
 */
function startWorker(base: URL, workerData: unknown): Worker {
  if (import.meta.url.endsWith('.js')) return new Worker(new URL(`${base.href}.js`), { workerData });
  const source = `${base.href}.ts`;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
