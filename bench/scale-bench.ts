import os from 'node:os';
import path from 'node:path';
import { startBackingServices } from '../test/helpers/backing-services.js';
import type { BenchInput } from './inputs.js';
import { BenchServer, BenchWorker } from './server-bench.js';
import { summarize, type Summary } from './stats.js';

export interface ScaleRow {
  workers: number;
  songs: number;
  seconds: number;
  songsPerMinute: number;
  /** Load averages (1, 5, 15 min) before and after: the machine may be shared. */
  load: number[][];
}

export interface ScaleResults {
  input: string;
  throughput: ScaleRow[];
  /** One song at a time through POST /api/enrich, on an otherwise idle fleet: seconds per song, and the load averages as each began. */
  latency: { embedded: Summary; distributed: Summary; load: { embedded: number[]; distributed: number[] } };
}

export interface ScaleOptions {
  /** Songs sent at once for each fleet size. */
  songs: number;
  workerCounts: number[];
  /** Songs sent one after the other for each latency figure. */
  reps: number;
  scratch: string;
  log: (line: string) => void;
}

// The bench sends more songs a minute than one visitor may, and all of them at once.
const UNLIMITED = { RATE_LIMIT_PER_MIN: '100000', MAX_QUEUE: '100' };

/**
 * The distributed mode on this machine: one web process, 1…N worker processes (WORKERS=1 each, as on a
 * 1-core dyno), redis-server and an in-process S3-compatible server on 127.0.0.1, as the tests run them.
 * Songs a minute for each fleet size, and how much one song's answer waits compared with the embedded mode.
 */
export async function benchScale(input: BenchInput, style: string, options: ScaleOptions): Promise<ScaleResults> {
  const { songs, workerCounts, reps, scratch, log } = options;
  const enrich = (server: BenchServer, seed: number) => server.enrich(input, { style, seed: String(seed), format: 'wav' });
  const throughput: ScaleRow[] = [];
  const distributed: number[] = [];
  const load = { embedded: [] as number[], distributed: [] as number[] };
  const backing = await startBackingServices();
  const web = await BenchServer.start({ ...backing.env, ...UNLIMITED, DATA_DIR: path.join(scratch, 'scale-web') });
  try {
    // Its style list, not /readyz: a web process is ready only once a worker is connected, and none is yet.
    await web.waitFor('/api/styles');
    for (const count of workerCounts) {
      const workers = await Promise.all(
        Array.from({ length: count }, (_, i) => BenchWorker.start({ ...backing.env, WORKERS: '1', DATA_DIR: path.join(scratch, `scale-worker-${count}-${i}`) })),
      );
      try {
        // One song per worker first, so no worker's first inference (ONNX Runtime's warm-up) is in the figure.
        await Promise.all(workers.map((_, i) => enrich(web, 1000 + i)));
        if (count === 1) {
          log(`scale: latency of one ${input.name} through the queue, ×${reps}`);
          load.distributed = os.loadavg();
          for (let r = 0; r < reps; r++) distributed.push((await enrich(web, r)).seconds);
        }
        log(`scale: ${songs} × ${input.name} at once, ${count} worker process${count > 1 ? 'es' : ''}`);
        const loadBefore = os.loadavg();
        const started = performance.now();
        await Promise.all(Array.from({ length: songs }, (_, i) => enrich(web, i)));
        const seconds = (performance.now() - started) / 1000;
        throughput.push({ workers: count, songs, seconds, songsPerMinute: (songs / seconds) * 60, load: [loadBefore, os.loadavg()] });
      } finally {
        await Promise.all(workers.map((worker) => worker.stop()));
      }
    }
  } finally {
    await web.stop();
    await backing.close();
  }

  log(`scale: latency of one ${input.name} in the embedded mode (WORKERS=1), ×${reps}`);
  const embedded: number[] = [];
  const server = await BenchServer.start({ ...UNLIMITED, WORKERS: '1', DATA_DIR: path.join(scratch, 'scale-embedded') });
  try {
    await server.waitFor('/readyz');
    await enrich(server, 1000);
    load.embedded = os.loadavg();
    for (let r = 0; r < reps; r++) embedded.push((await enrich(server, r)).seconds);
  } finally {
    await server.stop();
  }
  return { input: input.name, throughput, latency: { embedded: summarize(embedded), distributed: summarize(distributed), load } };
}
