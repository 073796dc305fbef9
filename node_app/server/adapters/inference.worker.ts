import { parentPort, workerData } from 'node:worker_threads';
import { enrichPcm, type StyleGenerator } from '../../engine/enrich.js';
import { createOnnxGenerator } from './onnx-generator.js';
import { transferList, type FromWorker, type ToWorker } from './inference-protocol.js';
import { loadManifest } from './manifest.js';

// Runs inference off the main thread: ONNX Runtime's run() is synchronous native work, and on the event
// loop it would stall /healthz and every upload for as long as a song takes.
const port = parentPort;
if (!port) throw new Error('inference.worker must run as a worker thread');
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let generator: StyleGenerator;
try {
  generator = await createOnnxGenerator(await loadManifest((workerData as { modelsDir: string }).modelsDir));
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'load-failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

const running = new Map<number, AbortController>();

port.on('message', (message: ToWorker) => {
  if (message.type === 'cancel') {
    running.get(message.id)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(message.id, controller);
  const { id, sampleRate, channels, request } = message;
  enrichPcm({ sampleRate, channels }, generator, {
    ...request,
    signal: controller.signal,
    onProgress: (fraction) => post({ type: 'progress', id, fraction }),
  })
    .then((pcm) => post({ type: 'done', id, channels: pcm.channels }, transferList(pcm.channels)))
    .catch((error: unknown) =>
      post({
        type: 'failed',
        id,
        message: error instanceof Error ? error.message : String(error),
        aborted: controller.signal.aborted,
      }),
    )
    .finally(() => running.delete(id));
});
