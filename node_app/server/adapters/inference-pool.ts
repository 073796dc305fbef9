import { Worker } from 'node:worker_threads';
import type { Pcm } from '../../engine/pcm.js';
import type { Logger } from '../logger.js';
import { transferList, type EnrichRequest, type FromWorker, type ToWorker } from './inference-protocol.js';

export type { EnrichRequest };

export interface EnrichHooks {
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export type PoolState = { status: 'loading' } | { status: 'ready' } | { status: 'failed'; message: string };

interface Task {
  id: number;
  pcm: Pcm;
  request: EnrichRequest;
  hooks: EnrichHooks;
  resolve: (pcm: Pcm) => void;
  reject: (error: Error) => void;
}

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

  enrich(pcm: Pcm, request: EnrichRequest, hooks: EnrichHooks = {}): Promise<Pcm> {
    return new Promise((resolve, reject) => {
      const task: Task = { id: this.nextId++, pcm, request, hooks, resolve, reject };
      hooks.signal?.addEventListener('abort', () => this.cancel(task), { once: true });
      this.waiting.push(task);
      this.dispatch();
    });
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
    if (message.type === 'progress') {
      task.hooks.onProgress?.(message.fraction);
      return;
    }
    slot.task = null;
    if (message.type === 'done') {
      task.resolve({ sampleRate: task.pcm.sampleRate, channels: message.channels });
    } else {
      task.reject(Object.assign(new Error(message.message), message.aborted ? { name: 'AbortError' } : {}));
    }
    this.dispatch();
  }

  private onExit(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    slot.task?.reject(new Error(`inference worker stopped unexpectedly (exit code ${code})`));
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
      const { channels, sampleRate } = task.pcm;
      const message: ToWorker = { type: 'enrich', id: task.id, sampleRate, channels, request: task.request };
      // The song's buffers move to the worker rather than being copied; they come back the same way.
      slot.worker.postMessage(message, transferList(channels));
    }
  }

  private cancel(task: Task): void {
    const queued = this.waiting.indexOf(task);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      task.reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
      return;
    }
    const slot = this.slots.find((s) => s.task === task);
    slot?.worker.postMessage({ type: 'cancel', id: task.id } satisfies ToWorker);
  }
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
