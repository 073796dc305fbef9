import { EventEmitter } from 'node:events';
import {
  AppError,
  errors,
  type CompressedFormat,
  type EnrichParams,
  type JobOutput,
  type JobParams,
  type JobPeaks,
  type JobStage,
  type JobStatus,
  type OutputFormat,
  type Rating,
} from '../../contract/index.js';
import type { AudioCodec, PcmStream } from '../adapters/media/audio-codec.js';
import type { PcmLayout } from '../adapters/media/ffmpeg.js';
import type { WavWriter } from '../adapters/media/wav.js';
import { framesPerPeak, PeakMeter } from '../../engine/peaks.js';
import { newJobId, type FileStore } from '../adapters/storage/file-store.js';
import { isAbortError, isDiskFull } from '../errors.js';
import type { Logger } from '../logger.js';
import { LiveEncode } from './live-encode.js';
import { toKnownError } from './media-failures.js';
import type { Models } from './models.js';
import { Semaphore } from './semaphore.js';

export interface Job {
  id: string;
  status: JobStatus;
  stage: JobStage;
  progress: number;
  params: JobParams;
  input: { name: string };
  output?: JobOutput;
  /** Why the job failed, as its client will be told. */
  error?: AppError;
  feedback?: Rating;
  createdAt: Date;
  expiresAt: Date;
}

export interface Upload {
  path: string;
  originalName: string;
}

export interface JobServiceOptions {
  codec: AudioCodec;
  models: Pick<Models, 'catalog' | 'enrich'>;
  files: FileStore;
  logger: Logger;
  concurrency: number;
  maxQueue: number;
  maxDurationSeconds: number;
  ttlMs: number;
  /** Result encodes (mp3, flac, ogg) that run at once, outside the enrichment workers. */
  encodeConcurrency?: number;
  /** Encodes that may wait for a turn; past that a download that needs a new encode gets 503 BUSY. */
  maxEncodeQueue?: number;
  /** New jobs are refused with 507 while the data dir's disk has less than this free. */
  minFreeBytes?: number;
  now?: () => Date;
}

interface Entry {
  job: Job;
  controller: AbortController;
  finished: Promise<void>;
  /** One encode per format: later requests for the same format wait on the first one's promise. */
  encodings: Map<CompressedFormat, Promise<string>>;
  meters?: { input: PeakMeter; result: PeakMeter; secondsPerPeak: number; expectedPeaks: number | null };
}

const MASTER = 'result.wav';
const INPUT = 'input';
const PEAKS = 'peaks.json';

/** Runs enrichment jobs: decode → model → WAV master, with progress events, expiry and cancellation. */
export class JobService {
  private readonly entries = new Map<string, Entry>();
  private readonly events = new EventEmitter();
  private readonly slots: Semaphore;
  private readonly encodeSlots: Semaphore;
  /** Encodes waiting for a turn or running, across all jobs. */
  private readonly encodes = new Set<Promise<unknown>>();
  private readonly now: () => Date;
  private sweeper: NodeJS.Timeout | null = null;
  private closing = false;

  constructor(private readonly options: JobServiceOptions) {
    this.slots = new Semaphore(options.concurrency);
    this.encodeSlots = new Semaphore(options.encodeConcurrency ?? 1);
    this.now = options.now ?? (() => new Date());
    this.events.setMaxListeners(0);
  }

  /** Takes ownership of the uploaded file: it is moved into the job or deleted, whatever happens. */
  async submit(upload: Upload, params: EnrichParams): Promise<Job> {
    try {
      // A job accepted now would be killed with the dyno; a 503 tells the client to come back.
      if (this.closing) throw errors.shuttingDown();
      if (this.activeCount >= this.options.concurrency + this.options.maxQueue) {
        throw errors.busy('The server is busy with other songs. Try again in a minute.', 30);
      }
      const settled = this.options.models.catalog().settle(params);
      if ((await this.options.files.freeBytes()) < (this.options.minFreeBytes ?? 0)) throw errors.diskFull();
      const id = newJobId();
      try {
        await this.options.files.createJobDir(id);
        await this.options.files.adopt(upload.path, id, INPUT);
      } catch (error) {
        await this.options.files.removeJob(id);
        throw isDiskFull(error) ? errors.diskFull() : error;
      }
      const created = this.now();
      const job: Job = {
        id,
        status: 'queued',
        stage: 'queued',
        progress: 0,
        params: settled.params,
        input: { name: upload.originalName },
        createdAt: created,
        expiresAt: new Date(created.getTime() + this.options.ttlMs),
      };
      const controller = new AbortController();
      const entry: Entry = { job, controller, finished: Promise.resolve(), encodings: new Map() };
      this.entries.set(id, entry);
      entry.finished = this.run(entry, settled.styleVector);
      return job;
    } finally {
      await this.options.files.removeFile(upload.path);
    }
  }

  get(id: string): Job {
    return this.entry(id).job;
  }

  /** Resolves once the job is done or failed. */
  async settled(id: string): Promise<Job> {
    const entry = this.entry(id);
    await entry.finished;
    return entry.job;
  }

  /** Calls `listener` with the job on every change; returns the unsubscribe function. */
  subscribe(id: string, listener: (job: Job) => void): () => void {
    this.entry(id);
    this.events.on(id, listener);
    return () => this.events.off(id, listener);
  }

  inputPath(id: string): string {
    const { job } = this.entry(id);
    if (job.status === 'failed') {
      throw errors.jobFailed();
    }
    return this.options.files.jobFile(id, INPUT);
  }

  /** The result in `format`, encoded from the WAV master the first time it is asked for. */
  async resultPath(id: string, format: OutputFormat): Promise<string> {
    const entry = this.entry(id);
    if (entry.job.status !== 'done') {
      throw errors.jobNotDone(entry.job.status);
    }
    if (format === 'wav') return this.options.files.jobFile(id, MASTER);
    let encoding = entry.encodings.get(format);
    if (!encoding) {
      if (this.closing) throw errors.shuttingDown();
      if (this.encodes.size >= (this.options.encodeConcurrency ?? 1) + (this.options.maxEncodeQueue ?? 0)) {
        throw errors.busy('The server is busy encoding other downloads. Try again in a minute, or download the wav.', 30);
      }
      const started = this.encode(entry, format);
      encoding = started;
      this.encodes.add(started);
      entry.encodings.set(format, started);
      // A failed encode is forgotten, so the next request tries again; a finished one is served from then on.
      started.then(
        () => this.encodes.delete(started),
        () => {
          this.encodes.delete(started);
          if (entry.encodings.get(format) === started) entry.encodings.delete(format);
        },
      );
    }
    return encoding;
  }

  /** The waveform peaks so far; from the file beside the result once the job is done. */
  async peaks(id: string): Promise<JobPeaks> {
    const entry = this.entry(id);
    if (entry.job.status === 'done') return JSON.parse(await this.options.files.readJobText(id, PEAKS)) as JobPeaks;
    const meters = entry.meters;
    if (entry.job.status === 'failed' || !meters) {
      return { secondsPerPeak: 0, expectedPeaks: null, complete: false, input: [], result: [] };
    }
    return { secondsPerPeak: meters.secondsPerPeak, expectedPeaks: meters.expectedPeaks, complete: false, input: meters.input.peaks(), result: meters.result.peaks() };
  }

  /**
   * Encodes the master in its turn, into a partial file renamed when complete, so a cut-short encode is never
   * served. The job's controller cancels it (DELETE, expiry, the end of the shutdown grace) and kills ffmpeg.
   */
  private async encode(entry: Entry, format: CompressedFormat): Promise<string> {
    const { codec, files } = this.options;
    const { job, controller } = entry;
    const partial = files.jobFile(job.id, `result.${format}.part`);
    let release: (() => void) | null = null;
    try {
      release = await this.encodeSlots.acquire(controller.signal);
      if (this.closing) throw errors.shuttingDown();
      await codec.transcode(files.jobFile(job.id, MASTER), format, partial, controller.signal);
      return await files.adopt(partial, job.id, `result.${format}`);
    } catch (error) {
      await files.removeFile(partial).catch(() => undefined);
      if (controller.signal.aborted || isAbortError(error)) throw this.closing ? errors.shuttingDown() : errors.jobNotFound();
      const known = toKnownError(error);
      if (!known || known.status >= 500) this.options.logger.error({ err: error, jobId: job.id, format }, 'encode failed');
      throw known ?? error;
    } finally {
      release?.();
    }
  }

  setFeedback(id: string, rating: Rating): Job {
    const job = this.get(id);
    job.feedback = rating;
    this.options.logger.info({ jobId: id, rating, style: job.params.style }, 'feedback');
    return job;
  }

  /** Cancels the job if it is still working and deletes its files. */
  async remove(id: string): Promise<void> {
    const entry = this.entry(id);
    const encodes = [...entry.encodings.values()];
    entry.controller.abort();
    this.entries.delete(id);
    await entry.finished;
    // Every encoder has exited before the folder goes: none outlives its job.
    await Promise.allSettled(encodes);
    await this.options.files.removeJob(id);
    this.events.removeAllListeners(id);
  }

  startSweeper(intervalMs = 60_000): void {
    this.sweeper = setInterval(() => void this.sweep(), intervalMs);
    this.sweeper.unref();
  }

  /** Deletes jobs whose time is up. */
  async sweep(): Promise<number> {
    const now = this.now().getTime();
    const expired = [...this.entries.values()].filter((e) => e.job.expiresAt.getTime() <= now).map((e) => e.job.id);
    await Promise.all(expired.map((id) => this.remove(id)));
    return expired.length;
  }

  /**
   * Refuses new jobs and new encodes, fails the queued jobs at once (503 SHUTTING_DOWN, files removed), lets
   * running work finish for up to `graceMs`, then cancels the rest the same way.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const entry of this.entries.values()) if (entry.job.status === 'queued') entry.controller.abort();
    const pending = [...this.entries.values()].map((e) => e.finished);
    const encodes = [...this.encodes].map((e) => e.catch(() => undefined));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
    if ((await Promise.race([Promise.all([...pending, ...encodes]), timeout])) === 'timeout') {
      for (const entry of this.entries.values()) entry.controller.abort();
      await Promise.all([...pending, ...encodes]);
    }
    await this.options.codec.close();
  }

  get activeCount(): number {
    return [...this.entries.values()].filter((e) => e.job.status === 'queued' || e.job.status === 'running').length;
  }

  private entry(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw errors.jobNotFound();
    return entry;
  }

  private update(job: Job, change: Partial<Job>): void {
    Object.assign(job, change);
    this.events.emit(job.id, job);
  }

  /**
   * Decode → model → WAV master as one stream, so memory holds a few windows of the song and never all of it.
   * Progress follows the frames written against what the decoder expects, held under one until the end.
   */
  private async enrichToMaster(entry: Entry, decoded: PcmStream, styleVector: Float32Array, signal: AbortSignal): Promise<JobOutput> {
    const { codec, models, files } = this.options;
    const { job } = entry;
    const perPeak = framesPerPeak(decoded.expectedFrames, decoded.sampleRate);
    const meters = {
      input: new PeakMeter(perPeak),
      result: new PeakMeter(perPeak),
      secondsPerPeak: perPeak / decoded.sampleRate,
      expectedPeaks: decoded.expectedFrames ? Math.ceil(decoded.expectedFrames / perPeak) : null,
    };
    entry.meters = meters;
    const input: PcmStream = { ...decoded, chunks: metered(decoded.chunks, meters.input) };
    const enriched = models.enrich(input, { amount: job.params.amount, styleVector, seed: job.params.seed }, { signal });
    const layout = { sampleRate: input.sampleRate, channels: input.channels };
    let writer: WavWriter | null = null;
    let live: { encode: LiveEncode; release: () => void } | null = null;
    let frames = 0;
    try {
      writer = await codec.writeWav(files.jobFile(job.id, MASTER), layout);
      live = this.startLiveEncode(job, layout, signal);
      for await (const chunk of enriched) {
        await Promise.all([writer.write(chunk), live?.encode.write(chunk)]);
        meters.result.add(chunk);
        frames += chunk[0].length;
        if (input.expectedFrames) this.update(job, { progress: 0.1 + 0.85 * Math.min(0.99, frames / input.expectedFrames) });
      }
      signal.throwIfAborted();
      this.update(job, { stage: 'encoding', progress: 0.95 });
      await writer.close();
      const encoded = await live?.encode.finish();
      if (live && encoded) entry.encodings.set(live.encode.format, Promise.resolve(encoded));
      const peaks: JobPeaks = { secondsPerPeak: meters.secondsPerPeak, expectedPeaks: null, complete: true, input: meters.input.peaks(), result: meters.result.peaks() };
      peaks.expectedPeaks = peaks.result.length;
      await files.writeJobText(job.id, PEAKS, JSON.stringify(peaks));
    } catch (error) {
      await writer?.abort().catch(() => undefined);
      await live?.encode.abort();
      // Stops the worker and the decoder if the writer was what failed.
      await enriched.return(undefined).catch(() => undefined);
      throw error;
    } finally {
      live?.release();
    }
    return { sampleRate: input.sampleRate, channels: input.channels, durationSeconds: frames / input.sampleRate };
  }

  /**
   * Encodes the job's own format while it is enriched when an encoder is free now (the same slots as the
   * downloads' encodes); otherwise its first download encodes from the master.
   */
  private startLiveEncode(job: Job, layout: PcmLayout, signal: AbortSignal): { encode: LiveEncode; release: () => void } | null {
    const { format } = job.params;
    if (format === 'wav') return null;
    const release = this.encodeSlots.tryAcquire();
    if (!release) return null;
    const { codec, files, logger } = this.options;
    try {
      return { encode: new LiveEncode({ jobId: job.id, format, layout, signal }, { codec, files, logger }), release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Why a job failed, for its client. A job deleted (or abandoned by its one-shot client) has nobody listening;
   * one stopped by a shutdown may still have its client waiting, who is told to come back.
   */
  private failureOf(job: Job, error: unknown, cancelled: boolean): AppError {
    const deleted = !this.entries.has(job.id);
    const known = cancelled ? (this.closing && !deleted ? errors.shuttingDown() : null) : toKnownError(error);
    if (known) return known;
    if (cancelled) return errors.cancelled();
    this.options.logger.error({ err: error, jobId: job.id }, 'job failed');
    return errors.enrichFailed();
  }

  private async run(entry: Entry, styleVector: Float32Array): Promise<void> {
    const { job, controller } = entry;
    const { signal } = controller;
    const { codec, models, files, logger } = this.options;
    let release: (() => void) | null = null;
    try {
      release = await this.slots.acquire(signal);
      // A job that starts now would only be killed with the process.
      if (this.closing) throw errors.shuttingDown();
      this.update(job, { status: 'running', stage: 'decoding', progress: 0.02 });
      const input = await codec.decode(files.jobFile(job.id, INPUT), {
        startSeconds: job.params.start,
        endSeconds: job.params.end,
        maxSeconds: this.options.maxDurationSeconds,
        signal,
      });
      this.update(job, { stage: 'enriching', progress: 0.1 });
      const output = await this.enrichToMaster(entry, input, styleVector, signal);
      this.update(job, { status: 'done', stage: 'done', progress: 1, output });
      logger.info({ jobId: job.id, style: job.params.style, seconds: output.durationSeconds }, 'job done');
    } catch (error) {
      this.update(job, { status: 'failed', stage: 'failed', error: this.failureOf(job, error, signal.aborted || isAbortError(error)) });
    } finally {
      release?.();
      entry.meters = undefined;
    }
    // A failed job keeps its record, so the client can read why, but nothing on disk: there is no result to serve.
    if (job.status === 'failed') await files.removeJob(job.id).catch((error: unknown) => logger.warn({ err: error, jobId: job.id }, 'could not delete a failed job'));
  }
}

async function* metered(chunks: AsyncIterable<Float32Array[]>, meter: PeakMeter): AsyncGenerator<Float32Array[]> {
  for await (const chunk of chunks) {
    meter.add(chunk);
    yield chunk;
  }
}
