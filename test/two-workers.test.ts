import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { InferencePool, type PcmInput } from '../node_app/server/adapters/inference/inference-pool.js';
import { BankCache } from '../node_app/server/adapters/inference/bank-cache.js';
import { bankFileReader } from '../node_app/server/adapters/inference/bank-reader.js';
import { resolveFfmpeg } from '../node_app/server/adapters/media/ffmpeg/binary.js';
import { loadManifest } from '../node_app/server/adapters/inference/manifest.js';
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
const banksDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-banks-'));
afterAll(() => rm(banksDir, { recursive: true, force: true }));
afterEach(async () => {
  vi.restoreAllMocks();
  await pool?.close();
  pool = null;
});

interface Seen {
  way: 'to' | 'from';
  type: string;
  worker: Worker;
  at: number;
  windows?: number;
}

/** The messages between the pool and its workers from now on, both ways: type, worker, time. */
function watchMessages(): Seen[] {
  const seen: Seen[] = [];
  const post = Worker.prototype.postMessage;
  vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, message: unknown, transfer) {
    seen.push({ way: 'to', type: (message as { type?: string }).type ?? '', worker: this, at: performance.now() });
    return post.call(this, message, transfer);
  });
  const emit = Worker.prototype.emit;
  vi.spyOn(Worker.prototype, 'emit').mockImplementation(function (this: Worker, event: string | symbol, ...args: unknown[]) {
    const message = args[0] as { type?: string; windows?: number } | undefined;
    if (event === 'message') seen.push({ way: 'from', type: message?.type ?? '', worker: this, at: performance.now(), windows: message?.windows });
    return emit.call(this, event, ...args);
  });
  return seen;
}

/** The distinct workers sent a message of one of `types`. */
const workersSent = (seen: Seen[], ...types: string[]) =>
  [...new Set(seen.filter((m) => m.way === 'to' && types.includes(m.type)).map((m) => m.worker))];

/** One cache for every pool here: the banks are decoded once, as a server decodes them once at start. */
let banks: BankCache | null = null;

async function startPool(workers: number): Promise<InferencePool> {
  banks ??= new BankCache(await loadManifest(modelsDir), bankFileReader(resolveFfmpeg(undefined, { preferSystem: true }).path), () => banksDir);
  pool = new InferencePool(modelsDir, banks, workers, createLogger('silent'));
  await pool.ready;
  return pool;
}

async function request() {
  const styleVector = new Float32Array((await loadManifest(modelsDir)).styles.length);
  styleVector[0] = 1;
  return { amount: 0.8, styleVector, seed: 42 };
}

/**
 * The song enriched by a pool of `workers`: the SHA-256 of its samples, how many workers were started on it
 * (with a part of its channels, or as a spare beside one) and how many windows the spares ran.
 */
async function enrichWith(workers: number, channels: 1 | 2): Promise<{ sha: string; frames: number; workersUsed: number; spareWindows: number }> {
  const running = await startPool(workers);
  const seen = watchMessages();
  const { sha, frames } = await digest(running.enrichStream(song(channels), await request()));
  await running.close();
  vi.restoreAllMocks();
  pool = null;
  const spareWindows = seen.reduce((sum, m) => sum + (m.type === 'served' ? (m.windows ?? 0) : 0), 0);
  return { sha, frames, workersUsed: workersSent(seen, 'start', 'serve').length, spareWindows };
}

/** The SHA-256 and length of an enriched stream; `each` sees every chunk as it comes. */
async function digest(stream: AsyncIterable<Float32Array[]>, each: (chunk: Float32Array[]) => unknown = () => undefined) {
  const hash = createHash('sha256');
  let frames = 0;
  for await (const chunk of stream) {
    await each(chunk);
    for (const channel of chunk) hash.update(new Uint8Array(channel.buffer, channel.byteOffset, channel.byteLength));
    frames += chunk[0].length;
  }
  return { sha: hash.digest('hex'), frames };
}

describe('one song on two workers', () => {
  // 14 s at the model's hop of 90112 samples is 7 windows; a mono song's spare takes the odd ones.
  it.each<[string, 1 | 2, number]>([
    ['splits a stereo song alone over both workers', 2, 0],
    ['gives a mono song alone a spare worker that runs every other window', 1, 3],
  ])('%s, with the same bytes as one worker', async (_how, channels, spareWindows) => {
    const one = await enrichWith(1, channels);
    const two = await enrichWith(2, channels);
    expect(one.workersUsed).toBe(1);
    expect(two.workersUsed).toBe(2);
    expect(two.spareWindows).toBe(spareWindows);
    expect(two.frames).toBe(seconds * sampleRate);
    expect(two.sha).toBe(one.sha);
  });

  it('finishes a mono song with the same bytes when its spare worker dies mid-song', async () => {
    const alone = await enrichWith(1, 1);
    const running = await startPool(2);
    const seen = watchMessages();
    let killed = false;
    const result = await digest(running.enrichStream(song(1), await request()), async (chunk) => {
      const [spare] = workersSent(seen, 'serve');
      if (chunk[0].length > 0 && spare && !killed) {
        killed = true;
        await spare.terminate();
      }
    });
    expect(killed).toBe(true);
    expect(result).toEqual({ sha: alone.sha, frames: seconds * sampleRate });
  });

  it('hands the spare to a second song as soon as one waits, and both songs keep their bytes', async () => {
    const alone = await enrichWith(1, 1);
    const running = await startPool(2);
    const params = await request();
    const seen = watchMessages();
    const first = digest(running.enrichStream(song(1), params));
    await vi.waitFor(() => expect(workersSent(seen, 'serve')).toHaveLength(1));
    const second = digest(running.enrichStream(song(1), params));
    const results = await Promise.all([first, second]);
    expect(results).toEqual([alone, alone].map(({ sha }) => ({ sha, frames: seconds * sampleRate })));
    // The second song started on the spare while the first was still running, not after it.
    // The spare was asked back and the second song started on it before the first song's part was done.
    const starts = seen.filter((m) => m.way === 'to' && m.type === 'start');
    const firstDone = seen.find((m) => m.way === 'from' && m.type === 'done');
    expect(starts).toHaveLength(2);
    expect(seen.some((m) => m.type === 'unserve')).toBe(true);
    expect(starts[1].at).toBeLessThan(firstDone!.at);
  });

  it('cancels a mono song and its spare together, and then has both workers free', async () => {
    const running = await startPool(2);
    const params = await request();
    const controller = new AbortController();
    const cancelled = (async () => {
      for await (const chunk of running.enrichStream(song(1), params, { signal: controller.signal })) {
        if (chunk[0].length > 0) controller.abort();
      }
    })();
    await expect(cancelled).rejects.toThrow(/abort/i);
    // Both workers are free again: a stereo song puts a channel on each.
    const seen = watchMessages();
    const { frames } = await digest(running.enrichStream(song(2), params));
    expect(frames).toBe(seconds * sampleRate);
    expect(workersSent(seen, 'start')).toHaveLength(2);
  });
});
