/// <reference lib="webworker" />
import * as ort from 'onnxruntime-web/wasm';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import model from 'virtual:preview-model';
import { OWN_TEXTURE_SECONDS, resolveStyleMix } from '../../../contract';
import { planWindows } from '../../../engine/crossfade';
import { EnrichStream, type StyleGenerator } from '../../../engine/enrich';
import { runWindows } from '../../../engine/model-feeds';
import { concatPlanar, encodeWav16 } from '../../../engine/pcm';
import { resampleLinear } from '../../../engine/resample';
import { normaliseRecording, type Bank, type StyleBanks } from '../../../engine/texture';
import { decodeFlac } from './flac';
import { savesData } from './network';
import type { PreviewFile } from './preview-model';
import type { FromPreviewWorker, PreviewRequest, PreviewSpan, PreviewStage, ToPreviewWorker } from './protocol';

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
/** What the worker does in turn, one request at a time; see {@link enqueue}. */
let queue: Promise<void> = Promise.resolve();

/** The steps finished since the last preview was sent, for the next one's account of its time. */
let spans: PreviewSpan[] = [];

/** Records a step as a User Timing measure (seen in the browser's profiler) and for the next preview's account. */
function record(name: string, start: number): void {
  const end = performance.now();
  performance.measure(`preview ${name}`, { start, end });
  spans.push({ name, start: performance.timeOrigin + start, end: performance.timeOrigin + end });
}

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    record(name, start);
  }
}

// From the worker's creation to here: fetching and compiling this script and what it imports.
record('worker script', 0);

/** Loading progress goes to the newest request, whichever request started the loading. */
const progress = (stage: PreviewStage, fraction: number) => post({ type: 'progress', id: latest, stage, fraction });

function loadSession(): Promise<ort.InferenceSession> {
  session ??= (async () => {
    if (typeof WebAssembly !== 'object') throw new Unavailable('this browser has no WebAssembly');
    progress('runtime', 0);
    ort.env.wasm.wasmPaths = { wasm: wasmUrl };
    // Threads need SharedArrayBuffer, which a page without cross-origin isolation does not get.
    const threads = scope.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    ort.env.wasm.numThreads = threads;
    const bytes = await timed('model fetch', () => fetchBytes(model.model, (fraction) => progress('model', fraction)));
    try {
      return await timed(`session on ${threads} thread${threads > 1 ? 's' : ''}`, () => ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }));
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
    const name = file.url.slice(file.url.lastIndexOf('/') + 1);
    pcm = timed(`fetch ${name}`, () => fetchBytes(file)).then((bytes) => timed(`decode ${name}`, async () => decodeFlac(bytes).samples));
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

const ownStyle = model.styles.find((s) => s.needsTexture);

/** The user's own recording as the server's readOwnTexture makes it, when the mix uses the style "own". */
function ownRecording(styleVector: Float32Array, texture: PreviewRequest['ownTexture']): Int16Array | undefined {
  if (!ownStyle || !(styleVector[ownStyle.index] > 0)) return undefined;
  if (!texture) throw new Error('choose your own sound to hear it in the preview');
  const seconds = texture.mono.length / texture.sampleRate;
  if (seconds < OWN_TEXTURE_SECONDS.min) throw new Error(`your own sound is ${seconds.toFixed(1)} s long; it needs at least ${OWN_TEXTURE_SECONDS.min} s`);
  return normaliseRecording(resampleLinear(texture.mono, texture.sampleRate, model.sampleRate));
}

/** The preview of `request`, or Superseded as soon as `stale` says a newer request makes it pointless. */
async function enrich(request: PreviewRequest, stale: () => boolean, report: (stage: PreviewStage, fraction: number) => void): Promise<Uint8Array> {
  const mix = resolveStyleMix(model.styles, model.defaultStyle, request.style, request.seed);
  const ownTexture = ownRecording(mix.styleVector, request.ownTexture);
  const [runtime, banks] = await timed('waiting for runtime, model and recordings', () =>
    Promise.all([loadSession(), model.grains ? banksFor(mix.styleVector) : undefined]),
  );
  const enriching = performance.now();
  const { channels, sampleRate, amount, seed, intensity } = request;
  const { signature, overlap, margin, grains } = model;
  const windows = planWindows(Math.ceil((channels[0].length * model.sampleRate) / sampleRate), signature.window, overlap, margin).count * channels.length;
  let done = 0;
  const generator: StyleGenerator = {
    sampleRate: model.sampleRate,
    window: signature.window,
    overlap,
    margin,
    ...(grains ? { grains, ...(ownStyle ? { ownStyle: ownStyle.index } : {}) } : {}),
    async generate(batch) {
      if (stale()) throw new Superseded();
      const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
      const wet = await timed('window', () =>
        runWindows(signature, tensor, async (feeds) => (await runtime.run(feeds))[signature.output].data as Float32Array, batch),
      );
      report('enriching', (done += batch.audio.length) / windows);
      return wet;
    },
  };
  report('enriching', 0);
  const stream = new EnrichStream(sampleRate, channels.length, generator, {
    amount,
    styleVector: mix.styleVector,
    seed,
    banks,
    ...(intensity ? { intensity } : {}),
    ...(ownTexture ? { ownTexture } : {}),
  });
  const head = await stream.push(channels);
  const wav = encodeWav16(concatPlanar([head, await stream.finish()], channels.length), sampleRate);
  record('enriching', enriching);
  return wav;
}

/** Runs `work` after whatever the worker is doing: the session runs one call at a time. */
function enqueue(work: () => Promise<void>): Promise<void> {
  queue = queue.then(work, work);
  return queue;
}

let warmed: Promise<void> | null = null;

/**
 * Loads the runtime, the model and `style`'s recordings, then enriches three seconds of stereo silence and throws
 * the result away. The browser compiles WebAssembly and JavaScript quickly and slowly at first, and its optimised
 * code only once a function has run a while; without this run, that first slow pass (seconds) falls on the first
 * preview. It gives way to any real request.
 */
function warmUp(style: string, seed: number): Promise<void> {
  warmed ??= enqueue(async () => {
    const at = latest;
    const silence = { channels: [0, 1].map(() => new Float32Array(3 * model.sampleRate)), sampleRate: model.sampleRate, style, amount: 0.5, seed };
    await timed('warm-up', () => enrich(silence, () => latest !== at, () => undefined));
    post({ type: 'warm' });
  });
  warmed.catch(() => {
    warmed = null;
  });
  return warmed;
}

let banksLoading = false;

/**
 * Every other style's recordings, one file at a time while no preview is waiting, so that a change of style
 * finds them decoded (all banks come to about 32 MB of samples).
 */
async function loadEveryBank(): Promise<void> {
  if (banksLoading || !model.grains) return;
  banksLoading = true;
  for (const { bank } of model.styles) {
    for (const file of bank ? [...bank.bed, ...bank.events] : []) {
      await queue.catch(() => undefined);
      await recording(file).catch(() => undefined);
    }
  }
}

async function make(id: number, request: PreviewRequest): Promise<void> {
  const wav = await enrich(
    request,
    () => id !== latest,
    (stage, fraction) => post({ type: 'progress', id, stage, fraction }),
  );
  const timings = { spans };
  spans = [];
  post({ type: 'done', id, wav: wav.buffer as ArrayBuffer, timings }, [wav.buffer as ArrayBuffer]);
}

function onMessage(message: ToPreviewWorker): void {
  if (message.type === 'prepare') {
    try {
      const mix = resolveStyleMix(model.styles, model.defaultStyle, message.style, message.seed);
      if (model.grains) void banksFor(mix.styleVector).catch(() => undefined);
    } catch {
      // A style field the preview cannot read is refused again, with its reason, by the request itself.
    }
    // Failures show when the preview itself is asked for; here they would have no one to tell.
    warmUp(message.style, message.seed).catch(() => undefined);
    return;
  }
  const { id, request } = message;
  latest = id;
  void enqueue(async () => {
    if (id !== latest) return;
    try {
      await make(id, request);
      if (!savesData()) void loadEveryBank();
    } catch (error) {
      if (id !== latest || error instanceof Superseded) return;
      post({ type: 'failed', id, message: error instanceof Error ? error.message : String(error), unavailable: error instanceof Unavailable });
    }
  });
}

// ONNX Runtime starts its threads as workers of this same script, named em-pthread; those belong to it alone.
if (!scope.name.startsWith('em-pthread')) scope.onmessage = (event: MessageEvent<ToPreviewWorker>) => onMessage(event.data);
