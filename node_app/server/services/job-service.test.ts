import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jobPeaksSchema, jobViewSchema } from '../../contract/index.js';
import { createWavWriter } from '../adapters/media/wav.js';
import { createServices } from '../compose.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { presentJob } from '../routes/presenters.js';
import type { Job, JobService } from './job-service.js';
import { FakeModels } from '../../../test/helpers/fakes.js';

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function setup(env: Record<string, string> = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'job-service-'));
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', DATA_DIR: dataDir, WORKERS: '1', MAX_QUEUE: '1', MIN_FREE_DISK_MB: '0', ...env });
  const models = new FakeModels();
  let clock = Date.now();
  const { jobs, batches, files } = await createServices(config, createLogger('silent'), { models: () => models, now: () => new Date(clock) });
  jobs.start();
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }), () => jobs.shutdown(0));
  let uploads = 0;
  /** A one-second stereo WAV upload, as multer leaves it in the uploads folder. */
  const upload = async () => {
    const file = path.join(files.uploadsDir, `upload-${uploads++}`);
    const writer = await createWavWriter(file, 2, 8000);
    await writer.write([new Float32Array(8000).fill(0.5), new Float32Array(8000).fill(-0.25)]);
    await writer.close();
    return { path: file, originalName: 'song.wav' };
  };
  const submit = async (style?: string) => jobs.submit(await upload(), { style, amount: 1, format: 'wav' });
  return { jobs, batches, files, models, upload, submit, dataDir, advance: (ms: number) => (clock += ms) };
}

const failureOf = async (run: () => unknown) => {
  try {
    await run();
  } catch (error) {
    return error as { status: number; code: string; headers: Record<string, string> };
  }
  throw new Error('did not fail');
};

function stagesOf(jobs: JobService, id: string): string[] {
  const stages: string[] = [];
  jobs.subscribe(id, (job: Job) => {
    if (stages.at(-1) !== job.stage) stages.push(job.stage);
  });
  return stages;
}

// The job state machine in the embedded mode (jobs in memory, files on local disk) with a fake model: no ONNX
// Runtime and, for WAV input, no ffmpeg decoding (it only encodes the listening copies). The real file store and
// WAV codec run underneath.
describe('JobService', () => {
  it('tells a queued job its place in the line, and moves it up as the jobs ahead start', async () => {
    const { jobs, models, submit } = await setup({ MAX_QUEUE: '3' });
    models.hold();
    const running = await submit();
    const next = await submit();
    const last = await submit();
    expect((await jobs.get(running.id)).ahead).toBeUndefined();
    expect((await jobs.get(next.id)).ahead).toBe(0);
    expect((await jobs.get(last.id)).ahead).toBe(1);
    expect(presentJob(await jobs.get(last.id)).ahead).toBe(1);
    await jobs.remove(next.id);
    expect((await jobs.get(last.id)).ahead).toBe(0);
    models.let();
    await jobs.settled(last.id);
    expect((await jobs.get(last.id)).ahead).toBeUndefined();
  });

  it('takes a job from queued through decoding, enriching and encoding to done, and keeps its result', async () => {
    const { jobs, models, submit } = await setup();
    models.hold();
    await submit();
    // One job at a time: the second waits its turn.
    const job = await submit('blues');
    expect(job).toMatchObject({ status: 'queued', progress: 0, params: { style: 'blues', weights: { blues: 1 }, format: 'wav' } });
    expect(job.params.seed).toBeGreaterThanOrEqual(0);
    const stages = stagesOf(jobs, job.id);
    models.let();
    const done = await jobs.settled(job.id);
    expect(stages).toEqual(['decoding', 'enriching', 'encoding', 'done']);
    expect(done).toMatchObject({ status: 'done', progress: 1, output: { sampleRate: 8000, channels: 2, durationSeconds: 1 } });
    expect(jobViewSchema.safeParse(presentJob(done)).success).toBe(true);
    expect((await jobs.result(job.id, 'wav')).name).toBe('result.wav');
    const peaks = await jobs.peaks(job.id);
    expect(jobPeaksSchema.safeParse(peaks).success).toBe(true);
    expect(peaks.complete).toBe(true);
    expect(Math.max(...peaks.input)).toBeCloseTo(0.5, 3);
    expect(Math.max(...peaks.result)).toBeCloseTo(0.25, 3);
  });

  it('refuses a job past the queue with 503 BUSY and Retry-After, and deletes its upload', async () => {
    const { models, submit, files } = await setup();
    models.hold();
    await submit();
    await submit();
    const busy = await failureOf(() => submit());
    expect(busy).toMatchObject({ status: 503, code: 'BUSY', headers: { 'Retry-After': '30' } });
    expect(await readdir(files.uploadsDir)).toEqual([]);
    models.let();
  });

  it('lets an album into the queue as one: all its songs while there is room for one, none (and no file) when the queue is full', async () => {
    const { jobs, batches, models, upload, submit, files, dataDir } = await setup();
    models.hold();
    const album = await batches.submit([await upload(), await upload(), await upload()], { amount: 1, format: 'wav' });
    expect(album.jobs.map(({ job }) => job.status)).toEqual(['queued', 'queued', 'queued']);
    expect(await failureOf(() => submit())).toMatchObject({ status: 503, code: 'BUSY' });
    const refused = [await upload(), await upload()];
    expect(await failureOf(() => batches.submit(refused, { amount: 1, format: 'wav' }))).toMatchObject({ status: 503, code: 'BUSY' });
    expect(await readdir(files.uploadsDir)).toEqual([]);
    expect((await readdir(path.join(dataDir, 'jobs'))).sort()).toEqual(album.jobs.map(({ job }) => job.id).sort());
    models.let();
    for (const { job } of album.jobs) expect((await jobs.settled(job.id)).status).toBe('done');
  });

  it('answers 409 for the result of a job still working, and 404 for one never made', async () => {
    const { jobs, models, submit } = await setup();
    models.hold();
    const job = await submit();
    expect(await failureOf(() => jobs.result(job.id, 'wav'))).toMatchObject({ status: 409, code: 'JOB_NOT_DONE' });
    expect(await failureOf(() => jobs.get('0'.repeat(32)))).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
    models.let();
  });

  it('fails a job whose model breaks with ENRICH_FAILED, keeps why, and deletes its files', async () => {
    const { jobs, models, submit, files } = await setup();
    models.failure = new Error('the model broke');
    const job = await jobs.settled((await submit()).id);
    expect(job).toMatchObject({ status: 'failed', stage: 'failed', error: { status: 500, code: 'ENRICH_FAILED' } });
    expect(await failureOf(() => jobs.input(job.id))).toMatchObject({ status: 409, code: 'JOB_FAILED' });
    expect(await readdir(path.dirname(files.uploadsDir), { recursive: true })).not.toContain(path.join('jobs', job.id));
  });

  it('cancels a running job that is deleted: CANCELLED, then gone', async () => {
    const { jobs, models, submit } = await setup();
    models.hold();
    const job = await submit();
    const settled = jobs.settled(job.id);
    const removed = jobs.remove(job.id);
    models.let();
    await removed;
    expect(await settled).toMatchObject({ status: 'failed', error: { status: 499, code: 'CANCELLED' } });
    expect(await failureOf(() => jobs.get(job.id))).toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  it('on shutdown fails the queued jobs with SHUTTING_DOWN and takes no new ones', async () => {
    const { jobs, models, submit } = await setup();
    models.hold();
    const running = await submit();
    const queued = await submit();
    const stopped = jobs.shutdown(10_000);
    expect(await jobs.settled(queued.id)).toMatchObject({ status: 'failed', error: { status: 503, code: 'SHUTTING_DOWN' } });
    expect(await failureOf(() => submit())).toMatchObject({ status: 503, code: 'SHUTTING_DOWN' });
    models.let();
    await stopped;
    expect((await jobs.get(running.id)).status).toBe('done');
  });

  it('forgets jobs and their files once their time is up', async () => {
    const { jobs, submit, advance } = await setup({ RESULT_TTL_MIN: '1' });
    const job = await jobs.settled((await submit()).id);
    advance(59_000);
    expect(await jobs.sweep()).toBe(0);
    advance(1_000);
    expect(await jobs.sweep()).toBe(1);
    expect(await failureOf(() => jobs.get(job.id))).toMatchObject({ code: 'JOB_NOT_FOUND' });
  });
});
