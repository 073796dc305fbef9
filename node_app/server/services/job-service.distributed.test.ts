import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeModels, MemoryObjects, SharedQueueFake } from '../../../test/helpers/fakes.js';
import { filesUnder } from '../../../test/helpers/files.js';
import { createAudioCodec } from '../adapters/media/audio-codec.js';
import { resolveFfmpeg } from '../adapters/media/ffmpeg/binary.js';
import { createWavWriter } from '../adapters/media/wav.js';
import { noRunner } from '../adapters/queue/job-queue.js';
import { MemoryQueue } from '../adapters/queue/memory-queue.js';
import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { BlobStore } from '../adapters/storage/blob-store.js';
import { FileStore } from '../adapters/storage/file-store.js';
import { LocalBlobStore } from '../adapters/storage/local-blob-store.js';
import { S3BlobStore } from '../adapters/storage/s3-blob-store.js';
import { createLogger } from '../logger.js';
import type { JobData, JobResult } from './job-record.js';
import { JobService, type Job } from './job-service.js';

/**
 * The distributed mode's lifecycle with fakes of its parts: web processes that run no jobs and worker
 * processes that do, each with its own data folder, over one shared queue (Redis's part) and one bucket (S3's
 * part), both in memory. The same JobService as the embedded mode, so these are fast; test/distributed.test.ts
 * runs the real redis-server and an S3 server.
 */
const LIMITS = { maxQueue: 2, maxDurationSeconds: 600, ttlMs: 60_000, encodeConcurrency: 1, maxEncodeQueue: 4, minFreeBytes: 0 };
const logger = createLogger('silent');
const ffmpegPath = resolveFfmpeg(undefined).path;

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

interface Process {
  jobs: JobService;
  files: FileStore;
  /** Files on this process's own disk, relative to its data folder. */
  localFiles(): Promise<string[]>;
}

async function processOf(
  parts: { queue: MemoryQueue<JobData, JobResult>; blobs: (files: FileStore) => BlobStore; models: FakeModels; runs: boolean; now: () => Date },
  wrap: (codec: AudioCodec) => AudioCodec = (codec) => codec,
): Promise<Process> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'job-process-'));
  const files = new FileStore(dataDir);
  await files.reset();
  const codec = wrap(createAudioCodec({ ffmpegPath, timeoutMs: 10_000, stallTimeoutMs: 10_000 }));
  const runner = parts.runs ? parts.queue.runner(1) : noRunner<JobData, JobResult>();
  const jobs = new JobService({ queue: parts.queue, blobs: parts.blobs(files), runner, files, codec, models: parts.models, logger, now: parts.now }, LIMITS);
  jobs.start();
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }), () => jobs.shutdown(0));
  return {
    jobs,
    files,
    localFiles: () => filesUnder(dataDir),
  };
}

/** A two-second stereo WAV upload, as multer leaves it in a web process's uploads folder. */
async function upload(web: Process, name = 'song.wav'): Promise<{ path: string; originalName: string }> {
  const file = path.join(web.files.uploadsDir, `upload-${Math.random().toString(36).slice(2)}`);
  const writer = await createWavWriter(file, 2, 8000);
  const ramp = (scale: number) => Float32Array.from({ length: 16000 }, (_, i) => scale * Math.sin(i / 10));
  await writer.write([ramp(0.5), ramp(-0.25)]);
  await writer.close();
  return { path: file, originalName: name };
}

async function bytesOf(jobs: JobService, id: string): Promise<Buffer> {
  return buffer((await (await jobs.result(id, 'wav')).open()).body);
}

async function failure(work: Promise<unknown>): Promise<{ status: number; code: string }> {
  return work.then(
    () => {
      throw new Error('did not fail');
    },
    (error: { status: number; code: string }) => ({ status: error.status, code: error.code }),
  );
}

async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Counts the encodes of each kind of process, and can hold the workers' until let go. */
class Encodes {
  readonly count = { web: 0, worker: 0 };
  private held: Promise<void> | null = null;
  private let: () => void = () => undefined;

  counted(kind: 'web' | 'worker'): (codec: AudioCodec) => AudioCodec {
    return (codec) => ({
      ...codec,
      transcode: async (...args) => {
        this.count[kind]++;
        if (kind === 'worker') await this.held;
        return codec.transcode(...args);
      },
    });
  }

  hold(): void {
    this.held = new Promise((resolve) => (this.let = resolve));
  }

  release(): void {
    this.let();
    this.held = null;
  }
}

/** Two web processes and a bucket on one shared queue; workers come with `worker()`. */
async function distributed() {
  const queue = new SharedQueueFake<JobData, JobResult>();
  const objects = new MemoryObjects();
  const models = new FakeModels();
  const encodes = new Encodes();
  let clock = Date.now();
  const parts = (runs: boolean) => ({ queue, models, runs, blobs: (files: FileStore) => new S3BlobStore(objects, files), now: () => new Date(clock) });
  const [a, b] = await Promise.all([processOf(parts(false), encodes.counted('web')), processOf(parts(false), encodes.counted('web'))]);
  const worker = (wrap: (codec: AudioCodec) => AudioCodec = encodes.counted('worker')) => processOf(parts(true), wrap);
  return { a, b, objects, models, encodes, worker, advance: (ms: number) => (clock += ms) };
}

/** The embedded mode's bytes for the same upload and parameters: the reference every distributed run must give. */
async function embeddedBytes(seed: number): Promise<Buffer> {
  const queue = new MemoryQueue<JobData, JobResult>();
  const one = await processOf({ queue, models: new FakeModels(), runs: true, blobs: (files) => new LocalBlobStore(files), now: () => new Date() });
  const job = await one.jobs.settled((await one.jobs.submit(await upload(one), { style: 'blues', amount: 1, seed, format: 'wav' })).id);
  expect(job.status).toBe('done');
  return bytesOf(one.jobs, job.id);
}

describe('JobService in the distributed mode, over fakes of Redis and S3', () => {
  it('a job accepted by one web process is run by a worker, followed, served and deleted through the other, with the embedded bytes', async () => {
    const reference = await embeddedBytes(7);
    const { a, b, objects, models, worker } = await distributed();
    const running = await worker();
    const accepted = await a.jobs.submit(await upload(a), { style: 'blues', amount: 1, seed: 7, format: 'wav' });
    const stages: string[] = [];
    b.jobs.subscribe(accepted.id, (job: Job) => stages.push(job.stage));

    const done = await b.jobs.settled(accepted.id);
    expect(done).toMatchObject({ status: 'done', progress: 1, output: { sampleRate: 8000, channels: 2, durationSeconds: 2 } });
    expect(stages.at(-1)).toBe('done');
    // The worker enriched with the style vector settled when the job was accepted, not one of its own.
    expect(models.requests).toEqual([{ styleVector: [0, 1], seed: 7 }]);
    expect((await bytesOf(b.jobs, accepted.id)).equals(reference)).toBe(true);
    expect((await b.jobs.peaks(accepted.id)).complete).toBe(true);
    // The worker makes the listening copies once the job is done; a web process asked for one waits for its file.
    await b.jobs.original(accepted.id);
    await a.jobs.result(accepted.id, 'mp3');
    await until(async () => (await running.localFiles()).length === 0);
    expect(objects.keysOf(accepted.id)).toEqual([
      `jobs/${accepted.id}/input`,
      `jobs/${accepted.id}/original.mp3`,
      `jobs/${accepted.id}/peaks.json`,
      `jobs/${accepted.id}/result.mp3`,
      `jobs/${accepted.id}/result.wav`,
    ]);
    // Nothing stays on the worker's disk, nor on the web processes' (their downloads were streamed).
    expect([...(await running.localFiles()), ...(await a.localFiles()), ...(await b.localFiles())]).toEqual([]);

    await b.jobs.remove(accepted.id);
    expect(await failure(a.jobs.get(accepted.id))).toEqual({ status: 404, code: 'JOB_NOT_FOUND' });
    expect(objects.keysOf(accepted.id)).toEqual([]);
  });

  it('a worker stopped mid-job hands it back; another worker runs it to the same bytes, and the first leaves no files', async () => {
    const reference = await embeddedBytes(11);
    const { a, b, models, worker } = await distributed();
    const leaving = await worker();
    models.hold();
    const { id } = await a.jobs.submit(await upload(a), { style: 'blues', amount: 1, seed: 11, format: 'wav' });
    await until(async () => (await a.jobs.get(id)).status === 'running');
    const stopped = leaving.jobs.shutdown(0);
    await worker();
    models.let();
    await stopped;
    expect(await b.jobs.settled(id)).toMatchObject({ status: 'done' });
    expect((await bytesOf(a.jobs, id)).equals(reference)).toBe(true);
    expect(await leaving.localFiles()).toEqual([]);
  });

  it('a job deleted while a worker runs it is stopped there, and the worker deletes what it wrote', async () => {
    const { a, b, objects, models, worker } = await distributed();
    const running = await worker();
    models.hold();
    const { id } = await a.jobs.submit(await upload(a), { amount: 1, format: 'wav' });
    await until(async () => (await running.localFiles()).some((f) => f.endsWith('result.wav')));
    await b.jobs.remove(id);
    expect(await failure(a.jobs.get(id))).toEqual({ status: 404, code: 'JOB_NOT_FOUND' });
    models.let();
    await until(async () => running.jobs.activeCount === 0);
    expect(objects.keysOf(id)).toEqual([]);
    expect(await running.localFiles()).toEqual([]);
  });

  it('refuses a job past MAX_QUEUE with 503 BUSY from any web process, and a web process that stops leaves its jobs to the workers', async () => {
    const { a, b, worker } = await distributed();
    const first = await a.jobs.submit(await upload(a), { amount: 1, format: 'wav' });
    await b.jobs.submit(await upload(b), { amount: 1, format: 'wav' });
    expect(await failure(b.jobs.submit(await upload(b), { amount: 1, format: 'wav' }))).toEqual({ status: 503, code: 'BUSY' });
    expect(await b.localFiles()).toEqual([]);

    await a.jobs.shutdown(0);
    expect((await b.jobs.get(first.id)).status).toBe('queued');
    await worker();
    expect(await b.jobs.settled(first.id)).toMatchObject({ status: 'done' });
  });

  it('a failed job keeps its error record and no files, nor a folder on the worker', async () => {
    const { a, b, objects, models, worker } = await distributed();
    const w = await worker();
    models.failure = new Error('the model broke');
    const { id } = await a.jobs.submit(await upload(a), { amount: 1, format: 'mp3' });
    const failed = await b.jobs.settled(id);
    expect(failed).toMatchObject({ status: 'failed', stage: 'failed', error: { status: 500, code: 'ENRICH_FAILED' } });
    expect(await failure(b.jobs.input(id))).toEqual({ status: 409, code: 'JOB_FAILED' });
    expect(objects.keysOf(id)).toEqual([]);
    // The master and the live MP3 encode it had begun were staged there; nothing of the job stays on that disk.
    await until(async () => !existsSync(path.dirname(w.files.jobFile(id, 'result.wav'))));
  });

  it('a live encode that breaks is dropped without failing the job, and the worker keeps no folder for the job', async () => {
    const { a, b, objects, worker } = await distributed();
    const brokenEncoder = (codec: AudioCodec): AudioCodec => ({
      ...codec,
      encodeStream: (...args) => {
        const encoder = codec.encodeStream(...args);
        return { ...encoder, write: () => Promise.reject(new Error('the encoder broke')), abort: () => encoder.abort() };
      },
    });
    const w = await worker(brokenEncoder);
    const { id } = await a.jobs.submit(await upload(a), { amount: 1, format: 'flac' });
    expect(await b.jobs.settled(id)).toMatchObject({ status: 'done' });
    expect(objects.keysOf(id)).not.toContain(`jobs/${id}/result.flac`);
    await until(async () => !existsSync(path.dirname(w.files.jobFile(id, 'result.wav'))));
  });

  it('a web process asked for a listening copy while the worker makes it waits for that copy and encodes none itself', async () => {
    const { a, b, objects, encodes, worker } = await distributed();
    await worker();
    encodes.hold();
    const { id } = await a.jobs.submit(await upload(a), { amount: 1, format: 'wav' });
    // Done while the worker's first copy is held: neither copy is stored yet.
    expect(await b.jobs.settled(id)).toMatchObject({ status: 'done' });
    expect(objects.keysOf(id)).toEqual([`jobs/${id}/input`, `jobs/${id}/peaks.json`, `jobs/${id}/result.wav`]);
    const asked = Promise.all([b.jobs.result(id, 'mp3'), a.jobs.original(id)]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    encodes.release();
    const [listening, original] = await asked;
    expect([listening.name, original.name]).toEqual(['result.mp3', 'original.mp3']);
    expect(encodes.count).toEqual({ web: 0, worker: 2 });
    expect(objects.keysOf(id)).toContain(`jobs/${id}/original.mp3`);
  });

  it('a job deleted while the worker makes its listening copies leaves no copy behind', async () => {
    const { a, b, objects, encodes, worker } = await distributed();
    const running = await worker();
    encodes.hold();
    const { id } = await a.jobs.submit(await upload(a), { amount: 1, format: 'wav' });
    expect(await b.jobs.settled(id)).toMatchObject({ status: 'done' });
    await until(async () => encodes.count.worker === 1);
    await b.jobs.remove(id);
    expect(objects.keysOf(id)).toEqual([]);
    encodes.release();
    // The held encode ends; its copy finds the job gone and is not stored, and the second copy is never made.
    await until(async () => (await running.localFiles()).length === 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(objects.keysOf(id)).toEqual([]);
    expect(await running.localFiles()).toEqual([]);
    expect(encodes.count.worker).toBe(1);
  });

  it('the sweeper of any web process deletes expired jobs, and files no job owns once they are old', async () => {
    const { a, b, objects, worker, advance } = await distributed();
    await worker();
    const { id } = await a.jobs.submit(await upload(a), { amount: 1, format: 'wav' });
    await b.jobs.settled(id);
    await b.jobs.original(id);
    const orphan = 'f'.repeat(32);
    objects.objects.set(`jobs/${orphan}/input`, { bytes: Buffer.from('left by a process that died'), lastModified: new Date(Date.now() - 16 * 60_000) });
    advance(LIMITS.ttlMs + 1);
    expect(await b.jobs.sweep()).toBe(1);
    expect(await failure(a.jobs.get(id))).toEqual({ status: 404, code: 'JOB_NOT_FOUND' });
    expect([...objects.objects.keys()]).toEqual([]);
  });
});
