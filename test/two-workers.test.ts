import { createHash } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InferencePool, type PcmInput } from '../node_app/server/adapters/inference-pool.js';
import { loadManifest } from '../node_app/server/adapters/manifest.js';
import { createLogger } from '../node_app/server/logger.js';

const modelsDir = path.resolve('models');
const sampleRate = 44100;
const seconds = 14;

/** A stereo song whose channels differ (or its left channel alone), in slices of the size a decoder delivers. */
function song(channels: 1 | 2): PcmInput {
  const frames = seconds * sampleRate;
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    const t = i / sampleRate;
    left[i] = 0.5 * Math.sin(2 * Math.PI * 220 * t) * (1 + Math.sin(2 * Math.PI * 0.5 * t)) * 0.5;
    right[i] = 0.4 * Math.sin(2 * Math.PI * 330 * t + 1) * (t % 1 < 0.1 ? 1 : 0.3);
  }
  async function* chunks(): AsyncGenerator<Float32Array[]> {
    for (let from = 0; from < frames; from += 12_000) {
      const to = Math.min(frames, from + 12_000);
      yield [left.slice(from, to), right.slice(from, to)].slice(0, channels);
    }
  }
  return { sampleRate, channels, chunks: chunks() };
}

let pool: InferencePool | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  await pool?.close();
  pool = null;
});

/**
 * The song enriched by a pool of `workers`: the SHA-256 of its samples, how many workers were started on it
 * (with a part of its channels, or as a spare beside one) and how many windows the spares ran.
 */
async function enrichWith(workers: number, channels: 1 | 2): Promise<{ sha: string; frames: number; workersUsed: number; spareWindows: number }> {
  pool = new InferencePool(modelsDir, workers, createLogger('silent'));
  await pool.ready;
  const starts = new Set<Worker>();
  let spareWindows = 0;
  const post = Worker.prototype.postMessage;
  const spy = vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, message: unknown, transfer) {
    const type = (message as { type?: string }).type;
    if (type === 'start' || type === 'serve') starts.add(this);
    return post.call(this, message, transfer);
  });
  const emit = Worker.prototype.emit;
  const heard = vi.spyOn(Worker.prototype, 'emit').mockImplementation(function (this: Worker, event: string | symbol, ...args: unknown[]) {
    const message = args[0] as { type?: string; windows?: number } | undefined;
    if (event === 'message' && message?.type === 'served') spareWindows += message.windows ?? 0;
    return emit.call(this, event, ...args);
  });
  const styleVector = new Float32Array((await loadManifest(modelsDir)).styles.length);
  styleVector[0] = 1;
  const hash = createHash('sha256');
  let frames = 0;
  for await (const chunk of pool.enrichStream(song(channels), { amount: 0.8, styleVector, seed: 42 })) {
    for (const channel of chunk) hash.update(new Uint8Array(channel.buffer, channel.byteOffset, channel.byteLength));
    frames += chunk[0].length;
  }
  await pool.close();
  spy.mockRestore();
  heard.mockRestore();
  pool = null;
  return { sha: hash.digest('hex'), frames, workersUsed: starts.size, spareWindows };
}

describe('one song on two workers', () => {
  it('splits a stereo song alone over both workers and gives the same bytes as one worker', async () => {
    const one = await enrichWith(1, 2);
    const two = await enrichWith(2, 2);
    expect(one.workersUsed).toBe(1);
    expect(two.workersUsed).toBe(2);
    expect(two.spareWindows).toBe(0);
    expect(two.frames).toBe(seconds * sampleRate);
    expect(two.sha).toBe(one.sha);
  });

  it('gives a mono song alone a spare worker that runs every other window, with the same bytes as one worker', async () => {
    const one = await enrichWith(1, 1);
    const two = await enrichWith(2, 1);
    expect(one.workersUsed).toBe(1);
    expect(two.workersUsed).toBe(2);
    // 14 s at the model's hop of 90112 samples is 7 windows; the spare takes the odd ones.
    expect(two.spareWindows).toBe(3);
    expect(two.frames).toBe(seconds * sampleRate);
    expect(two.sha).toBe(one.sha);
  });

  it('fails a mono song cleanly when its spare worker dies mid-song, and the pool goes on', async () => {
    pool = new InferencePool(modelsDir, 2, createLogger('silent'));
    await pool.ready;
    let spare: Worker | null = null;
    const post = Worker.prototype.postMessage;
    const spy = vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, message: unknown, transfer) {
      if ((message as { type?: string }).type === 'serve') spare = this;
      return post.call(this, message, transfer);
    });
    const styleVector = new Float32Array((await loadManifest(modelsDir)).styles.length);
    styleVector[0] = 1;
    const request = { amount: 0.8, styleVector, seed: 42 };
    const read = async () => {
      let frames = 0;
      for await (const chunk of pool!.enrichStream(song(1), request)) {
        frames += chunk[0].length;
        if (frames > 0 && spare) await (spare as Worker).terminate();
      }
      return frames;
    };
    await expect(read()).rejects.toThrow(/stopped unexpectedly|helping inference worker stopped/);
    spy.mockRestore();
    spare = null;
    // The dead worker is replaced, and the next song runs to its end.
    let frames = 0;
    for await (const chunk of pool.enrichStream(song(1), request)) frames += chunk[0].length;
    expect(frames).toBe(seconds * sampleRate);
  });

  it('cancels a mono song and its spare together, and then has both workers free', async () => {
    pool = new InferencePool(modelsDir, 2, createLogger('silent'));
    await pool.ready;
    const styleVector = new Float32Array((await loadManifest(modelsDir)).styles.length);
    styleVector[0] = 1;
    const request = { amount: 0.8, styleVector, seed: 42 };
    const controller = new AbortController();
    const cancelled = (async () => {
      for await (const chunk of pool!.enrichStream(song(1), request, { signal: controller.signal })) {
        if (chunk[0].length > 0) controller.abort();
      }
    })();
    await expect(cancelled).rejects.toThrow(/abort/i);
    // Both workers are free again: a stereo song puts a channel on each.
    const starts = new Set<Worker>();
    const post = Worker.prototype.postMessage;
    const spy = vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, message: unknown, transfer) {
      if ((message as { type?: string }).type === 'start') starts.add(this);
      return post.call(this, message, transfer);
    });
    let frames = 0;
    for await (const chunk of pool.enrichStream(song(2), request)) frames += chunk[0].length;
    spy.mockRestore();
    expect(frames).toBe(seconds * sampleRate);
    expect(starts.size).toBe(2);
  });
});
