import os from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { MixStream } from '../../../engine/enrich.js';
import { serveRows, withSpare } from './spare-rows.js';
import { createOnnxGenerator, type OnnxGenerator } from './onnx-generator.js';
import { transferList, type FromWorker, type ToWorker } from './inference-protocol.js';
import { loadManifest } from './manifest.js';

// Runs inference off the main thread: ONNX Runtime's run() is synchronous native work, and on the event
// loop it would stall /healthz and every upload for as long as a song takes.
const port = parentPort;
if (!port) throw new Error('inference.worker must run as a worker thread');
// On Linux a nice value belongs to a thread, and with one intra-op thread the model runs on this one: below
// normal priority, the event loop (/healthz, uploads, downloads) gets a core the moment it has work, while the
// workers still take every cycle it leaves. The jobs only lose the cycles the HTTP side actually uses.
const INFERENCE_NICENESS = 10;
try {
  os.setPriority(Math.min(19, os.getPriority() + INFERENCE_NICENESS));
} catch {
  // A platform that refuses runs the model at normal priority, as before.
}
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let generator: OnnxGenerator;
try {
  const { modelsDir } = workerData as { modelsDir: string };
  generator = await createOnnxGenerator(await loadManifest(modelsDir));
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'load-failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

interface Running {
  stream: MixStream;
  controller: AbortController;
  /** The port to a spare worker that runs every other window, closed when the part ends. */
  spare?: MessagePort;
  /** Chunks are enriched strictly in order: each waits for the one before. */
  queue: Promise<void>;
  failed: boolean;
}

const running = new Map<number, Running>();
/** Parts of other workers' songs that this worker runs every other window of, by part id. */
const serving = new Map<number, { stop: () => void }>();

/** Idle this long, the session is let go: songs queued back to back keep theirs. */
const RELEASE_AFTER_MS = 2_000;
let releaseTimer: NodeJS.Timeout | undefined;
/** An idle server keeps no memory arena: with no song in this worker for a while, the session goes. */
function releaseWhenIdle(): void {
  clearTimeout(releaseTimer);
  if (running.size > 0 || serving.size > 0) return;
  releaseTimer = setTimeout(() => void generator.release(), RELEASE_AFTER_MS);
}

function sendOutput(id: number, channels: Float32Array[]): void {
  post({ type: 'output', id, channels }, transferList(channels));
}

function enqueue(id: number, work: (task: Running) => Promise<void>): void {
  const task = running.get(id);
  if (!task) return;
  task.queue = task.queue.then(async () => {
    if (task.failed) return;
    try {
      await work(task);
    } catch (error) {
      task.failed = true;
      task.spare?.close();
      running.delete(id);
      releaseWhenIdle();
      post({ type: 'failed', id, message: error instanceof Error ? error.message : String(error), aborted: task.controller.signal.aborted });
    }
  });
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'start': {
      const controller = new AbortController();
      const { spare } = message;
      // With a spare worker, two windows per call: one runs here, the other there, at the same time.
      const stream = new MixStream(
        message.sampleRate,
        message.channels,
        spare ? withSpare(generator, spare, controller.signal) : generator,
        { ...message.request, signal: controller.signal, batchSize: spare ? 2 : undefined },
      );
      running.set(message.id, { stream, controller, spare, queue: Promise.resolve(), failed: false });
      clearTimeout(releaseTimer);
      return;
    }
    case 'serve':
      serving.set(
        message.id,
        serveRows(generator, message.port, (windows) => {
          serving.delete(message.id);
          post({ type: 'served', id: message.id, windows });
          releaseWhenIdle();
        }),
      );
      clearTimeout(releaseTimer);
      return;
    case 'unserve':
      serving.get(message.id)?.stop();
      return;
    case 'chunk':
      enqueue(message.id, async ({ stream, controller }) => {
        controller.signal.throwIfAborted();
        sendOutput(message.id, await stream.push(message.channels));
      });
      return;
    case 'end':
      enqueue(message.id, async ({ stream, controller, spare }) => {
        controller.signal.throwIfAborted();
        sendOutput(message.id, await stream.finish());
        spare?.close();
        running.delete(message.id);
        post({ type: 'done', id: message.id });
        releaseWhenIdle();
      });
      return;
    case 'cancel': {
      const task = running.get(message.id);
      if (!task) return;
      task.controller.abort();
      // A cancel with nothing in flight must still answer, or the pool would wait for a chunk that never comes.
      enqueue(message.id, async ({ controller }) => controller.signal.throwIfAborted());
    }
  }
});
