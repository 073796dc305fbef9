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

/** A stereo song whose channels differ, in slices of the size a decoder delivers. */
function song(): PcmInput {
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
      yield [left.slice(from, to), right.slice(from, to)];
    }
  }
  return { sampleRate, channels: 2, chunks: chunks() };
}

let pool: InferencePool | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  await pool?.close();
  pool = null;
});

/** The song enriched by a pool of `workers`: the SHA-256 of its samples and how many workers were started on it. */
async function enrichWith(workers: number): Promise<{ sha: string; frames: number; workersUsed: number }> {
  pool = new InferencePool(modelsDir, workers, createLogger('silent'));
  await pool.ready;
  const starts = new Set<Worker>();
  const post = Worker.prototype.postMessage;
  const spy = vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, message: unknown, transfer) {
    if ((message as { type?: string }).type === 'start') starts.add(this);
    return post.call(this, message, transfer);
  });
  const styleVector = new Float32Array((await loadManifest(modelsDir)).styles.length);
  styleVector[0] = 1;
  const hash = createHash('sha256');
  let frames = 0;
  for await (const chunk of pool.enrichStream(song(), { amount: 0.8, styleVector, seed: 42 })) {
    for (const channel of chunk) hash.update(new Uint8Array(channel.buffer, channel.byteOffset, channel.byteLength));
    frames += chunk[0].length;
  }
  spy.mockRestore();
  await pool.close();
  pool = null;
  return { sha: hash.digest('hex'), frames, workersUsed: starts.size };
}

describe('one song on two workers', () => {
  it('splits a stereo song alone over both workers and gives the same bytes as one worker', async () => {
    const one = await enrichWith(1);
    const two = await enrichWith(2);
    expect(one.workersUsed).toBe(1);
    expect(two.workersUsed).toBe(2);
    expect(two.frames).toBe(seconds * sampleRate);
    expect(two.sha).toBe(one.sha);
  });
});
