import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
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
  id: number;
  input: PcmInput;
  request: EnrichRequest;
  /** Frames of each chunk the worker has not answered yet, oldest first. */
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

// How far the decoder may run ahead of the worker, and the worker ahead of the WAV writer: enough to keep the
// worker busy between messages, small enough that memory is bounded by a few windows and not by the song.
const MAX_FRAMES_IN_FLIGHT = 1 << 17;
const MAX_OUTPUTS_WAITING = 4;

interface Slot {
  worker: Worker;
  task: Task | null;
}

/** Worker threads that each hold one ONNX Runtime session and enrich one song at a time. */
export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Task[] = [];
  private nextId = 1;
  private closing = false;
  private currentState: PoolState = { status: 'loading' };
  readonly ready: Promise<void>;

  constructor(
    private readonly modelsDir: string,
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
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const task: Task = { id: this.nextId++, input, request, inFlight: [], outputs: [], done: false, error: null, wake: () => undefined, released, release };
    const onAbort = () => this.fail(task, abortError());
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
      if (!task.done) this.fail(task, abortError());
      // A job counts as over only once its worker has let go of it: shutting down terminates the workers,
      // and a worker terminated in the middle of a model call takes the process down with it.
      await task.released;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private spawn(): Promise<void> {
    const worker = startWorker(new URL('./inference.worker', import.meta.url), { modelsDir: this.modelsDir });
    const slot: Slot = { worker, task: null };

    return new Promise((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          this.slots.push(slot);
          resolve();
          this.dispatch();
        } else if (message.type === 'load-failed') {
          reject(new Error(`model could not be loaded: ${message.message}`));
        } else {
          this.onTaskMessage(slot, message);
        }
      });
      worker.on('error', (error) => this.logger.error({ err: error }, 'inference worker error'));
      worker.on('exit', (code) => {
        reject(new Error(`inference worker exited with code ${code} while loading`));
        this.onExit(slot, code);
      });
    });
  }

  private onTaskMessage(slot: Slot, message: Exclude<FromWorker, { type: 'ready' | 'load-failed' }>): void {
    const task = slot.task;
    if (!task || task.id !== message.id) return;
    if (message.type === 'output') {
      task.inFlight.shift();
      if (!task.error && (message.channels[0]?.length ?? 0) > 0) task.outputs.push(message.channels);
      this.notify(task);
      return;
    }
    slot.task = null;
    task.release();
    if (message.type === 'done') {
      task.done = true;
      this.notify(task);
    } else {
      this.fail(task, Object.assign(new Error(message.message), message.aborted ? { name: 'AbortError' } : {}));
    }
    this.dispatch();
  }

  private onExit(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    if (slot.task) {
      this.fail(slot.task, new Error(`inference worker stopped unexpectedly (exit code ${code})`));
      slot.task.release();
    }
    if (!this.closing) {
      this.logger.warn({ code }, 'inference worker exited; starting a new one');
      this.spawn().catch((error: Error) => this.logger.error({ err: error }, 'could not restart inference worker'));
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.task) continue;
      const task = this.waiting.shift();
      if (!task) return;
      slot.task = task;
      const { sampleRate, channels } = task.input;
      slot.worker.postMessage({ type: 'start', id: task.id, sampleRate, channels, request: task.request } satisfies ToWorker);
      void this.pump(slot, task);
    }
  }

  /** Feeds the decoder's slices to the worker, pausing while it or the consumer is behind. */
  private async pump(slot: Slot, task: Task): Promise<void> {
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
          slot.worker.postMessage({ type: 'end', id: task.id } satisfies ToWorker);
          return;
        }
        task.inFlight.push(next.value[0]?.length ?? 0);
        // The slices move to the worker rather than being copied; the enriched ones come back the same way.
        slot.worker.postMessage({ type: 'chunk', id: task.id, channels: next.value } satisfies ToWorker, transferList(next.value));
      }
    } catch (error) {
      this.fail(task, error instanceof Error ? error : new Error(String(error)));
    } finally {
      // Stops the decoder (and kills ffmpeg) when the song will not be read to its end.
      if (task.error) await chunks.return?.().catch(() => undefined);
    }
  }

  /** Ends the task with `error` unless it has already ended; a worker still on it is told to stop. */
  private fail(task: Task, error: Error): void {
    if (task.done || task.error) return;
    task.error = error;
    task.outputs.length = 0;
    const queued = this.waiting.indexOf(task);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      task.release();
    }
    const slot = this.slots.find((s) => s.task === task);
    slot?.worker.postMessage({ type: 'cancel', id: task.id } satisfies ToWorker);
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

function abortError(): Error {
  return Object.assign(new Error('cancelled'), { name: 'AbortError' });
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
