/// <reference lib="webworker" />
import * as ort from 'onnxruntime-web/wasm';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import model from 'virtual:preview-model';
import { resolveStyleMix } from '../../../contract';
import { planWindows } from '../../../engine/crossfade';
import { EnrichStream, type StyleGenerator } from '../../../engine/enrich';
import { runWindows } from '../../../engine/model-feeds';
import { encodeWav16 } from '../../../engine/pcm';
import type { Bank, StyleBanks } from '../../../engine/texture';
import { decodeFlac } from './flac';
import type { PreviewFile } from './preview-model';
import type { FromPreviewWorker, PreviewRequest, PreviewStage, ToPreviewWorker } from './protocol';

// The engine and the model of the server, run here on the page's own copy of the song: nothing is uploaded.
const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (message: FromPreviewWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

/** Whether the browser can run the preview at all; a failure here is "not available here", not an error. */
class Unavailable extends Error {}
class Superseded extends Error {}

let session: Promise<ort.InferenceSession> | null = null;
const recordings = new Map<string, Promise<Int16Array>>();
/** The newest request: an older one still running stops at its next window. */
let latest = 0;
/** One preview at a time: a session runs one call at a time. */
let queue: Promise<void> = Promise.resolve();

/** Loading progress goes to the newest request, whichever request started the loading. */
const progress = (stage: PreviewStage, fraction: number) => post({ type: 'progress', id: latest, stage, fraction });

function loadSession(): Promise<ort.InferenceSession> {
  session ??= (async () => {
    if (typeof WebAssembly !== 'object') throw new Unavailable('this browser has no WebAssembly');
    progress('runtime', 0);
    ort.env.wasm.wasmPaths = { wasm: wasmUrl };
    // Threads need SharedArrayBuffer, which a page without cross-origin isolation does not get.
    ort.env.wasm.numThreads = scope.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    const bytes = await fetchBytes(model.model, (fraction) => progress('model', fraction));
    try {
      return await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new Unavailable(`the model could not start here (${error instanceof Error ? error.message : String(error)})`);
    }
  })();
  session.catch(() => {
    session = null;
  });
  return session;
}

async function fetchBytes(file: PreviewFile, onProgress?: (fraction: number) => void): Promise<Uint8Array> {
  const response = await fetch(file.url);
  if (!response.ok || !response.body) throw new Error(`could not load ${file.url} (${response.status})`);
  const out = new Uint8Array(file.bytes);
  let at = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.length > out.length) throw new Error(`${file.url} is larger than the build said`);
    out.set(value, at);
    at += value.length;
    onProgress?.(at / out.length);
  }
  return at === out.length ? out : out.subarray(0, at);
}

function recording(file: PreviewFile): Promise<Int16Array> {
  let pcm = recordings.get(file.url);
  if (!pcm) {
    pcm = fetchBytes(file).then((bytes) => decodeFlac(bytes).samples);
    pcm.catch(() => recordings.delete(file.url));
    recordings.set(file.url, pcm);
  }
  return pcm;
}

/** The banks of the styles the mix uses, by style index, as the server's BankCache gives them. */
async function banksFor(styleVector: Float32Array): Promise<StyleBanks> {
  const wanted = model.styles.filter((s) => s.bank && styleVector[s.index] > 0);
  const files = wanted.flatMap((s) => [...s.bank!.bed, ...s.bank!.events]);
  let loaded = 0;
  if (files.length > 0) progress('sounds', 0);
  const banks: (Bank | undefined)[] = new Array(model.styles.length).fill(undefined);
  await Promise.all(
    wanted.map(async ({ index, bank }) => {
      const read = (file: PreviewFile) => recording(file).finally(() => progress('sounds', ++loaded / files.length));
      const [bed, events] = await Promise.all([Promise.all(bank!.bed.map(read)), Promise.all(bank!.events.map(read))]);
      banks[index] = { bed, events, eventEvery: bank!.eventEvery, ...(bank!.segment ? { segment: bank!.segment } : {}) };
    }),
  );
  return banks;
}

async function make(id: number, request: PreviewRequest): Promise<void> {
  const report = (stage: PreviewStage, fraction: number) => post({ type: 'progress', id, stage, fraction });
  const mix = resolveStyleMix(model.styles, model.defaultStyle, request.style, request.seed);
  if (model.styles.some((s) => s.needsTexture && mix.styleVector[s.index] > 0)) {
    throw new Error('the preview cannot use your own sound yet; Enrich uses it');
  }
  const began = performance.now();
  const [runtime, banks] = await Promise.all([loadSession(), model.grains ? banksFor(mix.styleVector) : undefined]);
  const loaded = performance.now();
  const { channels, sampleRate, amount, seed, intensity } = request;
  const { signature, overlap, margin, grains } = model;
  const windows = planWindows(Math.ceil((channels[0].length * model.sampleRate) / sampleRate), signature.window, overlap, margin).count * channels.length;
  let done = 0;
  const generator: StyleGenerator = {
    sampleRate: model.sampleRate,
    window: signature.window,
    overlap,
    margin,
    ...(grains ? { grains } : {}),
    async generate(batch) {
      // A newer request (another style, amount, seed or section) makes this one pointless.
      if (id !== latest) throw new Superseded();
      const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
      const wet = await runWindows(signature, tensor, async (feeds) => (await runtime.run(feeds))[signature.output].data as Float32Array, batch);
      report('enriching', (done += batch.audio.length) / windows);
      return wet;
    },
  };
  report('enriching', 0);
  const stream = new EnrichStream(sampleRate, channels.length, generator, { amount, styleVector: mix.styleVector, seed, banks, ...(intensity ? { intensity } : {}) });
  const head = await stream.push(channels);
  const tail = await stream.finish();
  const out = head.map((h, c) => {
    const joined = new Float32Array(h.length + tail[c].length);
    joined.set(h);
    joined.set(tail[c], h.length);
    return joined;
  });
  const wav = encodeWav16(out, sampleRate);
  const timings = { loading: Math.round(loaded - began), enriching: Math.round(performance.now() - loaded) };
  post({ type: 'done', id, wav: wav.buffer as ArrayBuffer, timings }, [wav.buffer as ArrayBuffer]);
}

scope.onmessage = (event: MessageEvent<ToPreviewWorker>) => {
  const message = event.data;
  if (message.type === 'prepare') {
    // Failures show when the preview itself is asked for; here they would have no one to tell.
    void loadSession().catch(() => undefined);
    try {
      const mix = resolveStyleMix(model.styles, model.defaultStyle, message.style, message.seed);
      if (model.grains) void banksFor(mix.styleVector).catch(() => undefined);
    } catch {
      // A style field the preview cannot read is refused again, with its reason, by the request itself.
    }
    return;
  }
  const { id, request } = message;
  latest = id;
  queue = queue.then(async () => {
    if (id !== latest) return;
    try {
      await make(id, request);
    } catch (error) {
      if (id !== latest || error instanceof Superseded) return;
      post({ type: 'failed', id, message: error instanceof Error ? error.message : String(error), unavailable: error instanceof Unavailable });
    }
  });
};
