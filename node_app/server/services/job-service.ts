import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { text } from 'node:stream/consumers';
import {
  AppError,
  CONTENT_TYPES,
  ErrorCode,
  errors,
  isFinished,
  jobPeaksSchema,
  LISTENING_FORMAT,
  type CompressedFormat,
  type EnrichParams,
  type JobPeaks,
  type JobStage,
  type OutputFormat,
  type ResultPart,
  textureErrors,
  type Rating,
} from '../../contract/index.js';
import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { JobQueue, JobRunner, RunningJob, RunOutcome } from '../adapters/queue/job-queue.js';
import { RangeNotSatisfiable, type BlobRead, type BlobStore, type LocalCopy } from '../adapters/storage/blob-store.js';
import type { FileStore } from '../adapters/storage/file-store.js';
import { isJobId, jobFiles, newJobId, type JobFile } from '../adapters/storage/job-files.js';
import { isAbortError, isDiskFull } from '../errors.js';
import type { Logger } from '../logger.js';
import { EMPTY_PEAKS, Enrichment } from './enrichment.js';
import { cancelledJob, failureRecord, jobOf, type Job, type JobData, type JobRecord, type JobResult, type Upload } from './job-record.js';
import { toKnownError } from './media-failures.js';
import type { Models } from './models.js';
import { resultTags } from './credits.js';
import { writeLayer } from './layer.js';
import { writeOriginalCopy } from './original-copy.js';
import { Semaphore } from './semaphore.js';

/**
 * The parts a process is built from. A mode is a choice of parts: records and queue in memory with an
 * in-process runner (embedded), or in Redis with worker processes as runners (distributed); files on this
 * machine's disk or in S3 (`FILE_STORAGE`).
 */
export interface JobParts {
  queue: JobQueue<JobData, JobResult>;
  blobs: BlobStore;
  /** Runs queued jobs in this process: the in-process runner, a BullMQ worker, or none. */
  runner: JobRunner<JobData, JobResult>;
  /** This machine's data folder: uploads, staging copies, free space. */
  files: FileStore;
  codec: AudioCodec;
  models: Pick<Models, 'catalog' | 'enrich'>;
  logger: Logger;
  now?: () => Date;
}

export interface JobLimits {
  /** Songs that may wait for a runner before new ones are refused with 503 BUSY. */
  maxQueue: number;
  maxDurationSeconds: number;
  ttlMs: number;
  /** Result encodes (mp3, flac, ogg) that run at once in this process, outside the enrichment workers. */
  encodeConcurrency: number;
  /** Encodes that may wait for a turn; past that a download that needs a new encode gets 503 BUSY. */
  maxEncodeQueue: number;
  /** New jobs are refused with 507 while this machine's data folder has less than this free. */
  minFreeBytes: number;
}

/** A job's stored file, opened when it is sent: whole, or the byte range an HTTP `Range` asks for. */
export interface StoredFile {
  name: string;
  open(range?: string): Promise<BlobRead>;
}

/** Objects older than this without a job in the queue were left by a process that died between the two. */
const ORPHAN_AGE_MS = 15 * 60_000;
/** Changes can be missed while Redis reconnects; a waiting request looks again this often anyway. */
const RECHECK_MS = 5_000;
const NO_RUNNER = 'No worker is connected to take this job; it waits until one starts.';
/**
 * How long a done job's runner is given to store its listening copies before a request elsewhere makes its own:
 * each is about as long as ffmpeg's own transcode (1.7 s for a 3-min song on one idle core), with room for a
 * busy machine.
 */
const COPIES_BASE_MS = 15_000;
const COPIES_MS_PER_SECOND = 100;
/** How often a request waiting for another process's copy looks for it. */
const COPY_POLL_MS = 250;

/** This process's share of a job: its run, and the encodes of its downloads. */
interface Run {
  enrichment: Enrichment | null;
  ended: Promise<void>;
}

interface Encoding {
  jobId: string;
  done: Promise<void>;
  controller: AbortController;
}

/**
 * A job's whole life, written once whatever parts run it: accepted (upload stored, record queued), run by a
 * runner (decode → model → WAV master, progress reported), followed (changes, waiting for the end), served
 * (input, result in any format, peaks), deleted, expired, and stopped at shutdown.
 */
export class JobService {
  private readonly changes = new EventEmitter();
  private readonly encodeSlots: Semaphore;
  /** One encode per job and format in this process: later requests wait on the first one. */
  private readonly encodings = new Map<string, Encoding>();
  private readonly runs = new Map<string, Run>();
  /** Jobs whose listening copies this process is making, one after the other. */
  private readonly copying = new Map<string, { done: Promise<void>; controller: AbortController }>();
  /** Names this process in a job's record as the one making its copies. */
  private readonly instance = randomUUID();
  /** Requests waiting on a job and encodes, for the shutdown's grace. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Aborted when the shutdown's grace ends: runs go back to the queue, waits answer 503, encodes are killed. */
  private readonly stopping = new AbortController();
  private readonly now: () => Date;
  private sweeper: NodeJS.Timeout | null = null;
  private closing = false;
  private listening = false;

  constructor(
    private readonly parts: JobParts,
    private readonly limits: JobLimits,
  ) {
    this.encodeSlots = new Semaphore(limits.encodeConcurrency);
    this.now = parts.now ?? (() => new Date());
    this.changes.setMaxListeners(0);
  }

  /** Starts taking jobs from the queue, where this process has a runner. */
  start(): void {
    this.parts.runner.start((job) => this.run(job));
  }

  /**
   * Takes ownership of the uploaded files: they are stored with the job or deleted, whatever happens. `texture`
   * is the user's own recording, which a mix with the style "own" needs and any other mix refuses. A song of an
   * album after its first (`inBatch`) skips the queue's room check: the album was let in as a whole by its first.
   */
  async submit(upload: Upload, params: EnrichParams, texture?: Upload, { inBatch = false, oneShot = false }: { inBatch?: boolean; oneShot?: boolean } = {}): Promise<Job> {
    const { queue, blobs, files, models } = this.parts;
    try {
      // A job accepted now would be killed with the process; a 503 tells the client to come back.
      if (this.closing) throw errors.shuttingDown();
      if (!inBatch) {
        const { waiting, idleRunners } = await this.reachable(queue.backlog());
        if (waiting - idleRunners >= this.limits.maxQueue) throw errors.busy('The server is busy with other songs. Try again in a minute.', 30);
      }
      const catalog = models.catalog();
      const settled = catalog.settle(params);
      const needsTexture = catalog.needsTexture(settled.params.weights);
      if (needsTexture && !texture) throw errors.missingTexture();
      if (!needsTexture && texture) throw textureErrors.unused();
      if ((await files.freeBytes()) < this.limits.minFreeBytes) throw errors.diskFull();
      const id = newJobId();
      const created = this.now();
      const data: JobData = {
        params: settled.params,
        styleVector: [...settled.styleVector],
        input: { name: upload.originalName },
        ...(texture ? { texture: { name: texture.originalName, sha256: await files.sha256(texture.path) } } : {}),
        createdAt: created.toISOString(),
        expiresAt: new Date(created.getTime() + this.limits.ttlMs).toISOString(),
        ...(oneShot ? { oneShot: true } : {}),
      };
      try {
        await this.reachable(blobs.adopt(jobFiles.input(id), upload.path));
        if (texture) await this.reachable(blobs.adopt(jobFiles.texture(id), texture.path));
        await this.reachable(queue.add(id, data));
      } catch (error) {
        await blobs.removeJob(id).catch(() => undefined);
        throw error;
      }
      return jobOf({ id, state: 'waiting', data, progress: undefined });
    } finally {
      await files.removeFile(upload.path);
      if (texture) await files.removeFile(texture.path);
    }
  }

  async get(id: string): Promise<Job> {
    const job = jobOf(await this.record(id));
    if (job.status !== 'queued') return job;
    const { queue } = this.parts;
    // Runners that cannot be counted (Redis trouble) are not reported as missing: /readyz says what is wrong;
    // a place in the line that cannot be read is left out.
    const [runners, ahead] = await Promise.all([queue.runnerCount().catch(() => 1), queue.position(job.id).catch(() => null)]);
    return { ...job, ...(ahead === null ? {} : { ahead }), ...(runners === 0 ? { notice: NO_RUNNER } : {}) };
  }

  /** Resolves once the job is done or failed; a job deleted meanwhile ends as CANCELLED. */
  async settled(id: string): Promise<Job> {
    const first = await this.get(id);
    if (isFinished(first.status)) return first;
    const waiting = new Promise<Job>((resolve, reject) => {
      let last = first;
      let ended = false;
      const end = (settle: () => void) => {
        if (ended) return;
        ended = true;
        unsubscribe();
        clearInterval(recheck);
        this.stopping.signal.removeEventListener('abort', onStop);
        settle();
      };
      const onJob = (job: Job) => {
        last = job;
        if (isFinished(job.status)) end(() => resolve(job));
      };
      const onGone = () => end(() => resolve(cancelledJob(last)));
      const onStop = () => end(() => reject(errors.shuttingDown()));
      // Redis failing for a moment is not the job's end: the next look may get through.
      const look = () => this.get(id).then(onJob, (error: unknown) => isGone(error) && onGone());
      const unsubscribe = this.subscribe(id, onJob, onGone);
      const recheck = setInterval(look, RECHECK_MS);
      this.stopping.signal.addEventListener('abort', onStop);
      void look();
    });
    return this.track(waiting);
  }

  /** Calls `listener` with the job on every change, and `onGone` if it is deleted; returns the unsubscribe function. */
  subscribe(id: string, listener: (job: Job) => void, onGone: () => void = () => undefined): () => void {
    this.listen();
    const onChange = (job: Job | null) => (job ? listener(job) : onGone());
    this.changes.on(id, onChange);
    return () => this.changes.off(id, onChange);
  }

  async input(id: string): Promise<StoredFile> {
    const job = await this.get(id);
    if (job.status === 'failed') throw errors.jobFailed();
    return this.stored(jobFiles.input(job.id));
  }

  /**
   * The part of the input that was enriched, as the result's listening copy compares with it (mp3): made by the
   * job's runner once it is done, or here when it is first asked for and is neither stored nor being made here.
   */
  async original(id: string): Promise<StoredFile> {
    const job = await this.get(id);
    if (job.status !== 'done') throw errors.jobNotDone(job.status);
    const file = jobFiles.original(job.id);
    await this.listeningCopy(job, file, (partial, signal) => this.writeOriginal(job.id, job.params, partial, signal));
    return this.stored(file);
  }

  /**
   * The result in `format`: the WAV master, or an encode of it kept beside it from the first request. With
   * `part` "layer", what the style added alone: derived from the master and the input on the first request
   * (a WAV), and encoded from that WAV for the other formats.
   */
  async result(id: string, format: OutputFormat, part: ResultPart = 'mix'): Promise<StoredFile> {
    const job = await this.get(id);
    if (job.status !== 'done') throw errors.jobNotDone(job.status);
    if (part === 'layer') {
      const layer = jobFiles.layer(job.id, 'wav');
      if (!(await this.reachable(this.parts.blobs.exists(layer)))) await this.derived(job.id, layer, 'wav', (partial, signal) => this.writeLayer(job, partial, signal));
    }
    const source = part === 'layer' ? jobFiles.layer(job.id, 'wav') : jobFiles.result(job.id, 'wav');
    const file = part === 'layer' ? jobFiles.layer(job.id, format) : jobFiles.result(job.id, format);
    if (format !== 'wav') {
      const write = (partial: string, signal: AbortSignal) => this.transcode(source, format, partial, signal);
      if (part === 'mix' && format === LISTENING_FORMAT) await this.listeningCopy(job, file, write);
      else if (!(await this.reachable(this.parts.blobs.exists(file)))) await this.derived(job.id, file, format, write);
    }
    return this.stored(file);
  }

  /**
   * The result levelled for its album (jobFiles.album): its WAV written by `level` from the staged master on the
   * first request, in this process's encode turns as every derived file is, and the other formats encoded from it.
   */
  async albumResult(id: string, format: OutputFormat, level: (master: string, partial: string, signal: AbortSignal) => Promise<void>): Promise<StoredFile> {
    const job = await this.get(id);
    if (job.status !== 'done') throw errors.jobNotDone(job.status);
    const { blobs } = this.parts;
    const wav = jobFiles.album(job.id, 'wav');
    if (!(await this.reachable(blobs.exists(wav)))) {
      await this.derived(job.id, wav, 'wav', async (partial, signal) => {
        const master = await this.reachable(blobs.stageLocal(jobFiles.result(job.id, 'wav')));
        if (!master) throw errors.jobNotFound();
        try {
          await level(master.path, partial, signal);
        } finally {
          await master.release();
        }
      });
    }
    const file = jobFiles.album(job.id, format);
    if (format !== 'wav' && !(await this.reachable(blobs.exists(file)))) {
      await this.derived(job.id, file, format, (partial, signal) => this.transcode(wav, format, partial, signal));
    }
    return this.stored(file);
  }

  /** The waveform peaks: stored beside the result once the job is done, measured so far where it runs here. */
  async peaks(id: string): Promise<JobPeaks> {
    const job = await this.get(id);
    if (job.status === 'done') {
      const stored = await this.stored(jobFiles.peaks(job.id)).open();
      return jobPeaksSchema.parse(JSON.parse(await text(stored.body)));
    }
    // Runners elsewhere report progress, not the growing waveform: the picture comes with the result.
    return this.runs.get(job.id)?.enrichment?.peaks() ?? EMPTY_PEAKS;
  }

  async setFeedback(id: string, rating: Rating): Promise<Job> {
    const record = await this.record(id);
    const data = { ...record.data, feedback: rating };
    await this.reachable(this.parts.queue.update(id, data));
    this.parts.logger.info({ jobId: id, rating, style: data.params.style }, 'feedback');
    return jobOf({ ...record, data });
  }

  /** Cancels the job wherever it runs and deletes its files. */
  async remove(id: string): Promise<void> {
    const { queue, blobs } = this.parts;
    if (!isJobId(id) || !(await this.reachable(queue.exists(id)))) throw errors.jobNotFound();
    // The mark first: a runner that holds the job (or takes it now) stops and deletes what it wrote.
    await this.reachable(queue.markCancelled(id));
    await this.settleHere(id);
    await this.reachable(queue.remove(id));
    await this.reachable(blobs.removeJob(id));
  }

  startSweeper(): void {
    // S3's lifecycle rules work in whole days; results live minutes. Every web process sweeps: it is idempotent.
    const intervalMs = Math.max(1_000, Math.min(60_000, this.limits.ttlMs / 2));
    this.sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) => this.parts.logger.warn({ err: error }, 'sweep failed'));
    }, intervalMs);
    this.sweeper.unref();
  }

  /** Deletes finished jobs whose time is up, and files that belong to no job. */
  async sweep(): Promise<number> {
    const { queue, blobs } = this.parts;
    const now = this.now().getTime();
    const expired: string[] = [];
    for await (const { id, data } of queue.finished()) if (Date.parse(data.expiresAt) <= now) expired.push(id);
    for (const id of expired) {
      await this.settleHere(id);
      await blobs.removeJob(id);
      await queue.remove(id);
    }
    const orphans = new Set<string>();
    for await (const { jobId, lastModified } of blobs.list()) {
      if (now - lastModified.getTime() > ORPHAN_AGE_MS && !orphans.has(jobId) && !(await queue.exists(jobId))) orphans.add(jobId);
    }
    for (const id of orphans) await blobs.removeJob(id);
    return expired.length;
  }

  /**
   * Refuses new jobs and encodes; jobs that no other process could run fail at once (503 SHUTTING_DOWN, files
   * removed); work in progress gets up to `graceMs`, then runs go back to the queue (or fail the same way, where
   * nobody else can take them) and waiting requests are answered 503.
   */
  async shutdown(graceMs: number): Promise<void> {
    const { queue, runner, blobs, codec, logger } = this.parts;
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    await queue.release(async (id) => {
      await blobs.removeJob(id).catch((error: unknown) => logger.warn({ err: error, jobId: id }, 'could not delete a stranded job'));
      return failureRecord(errors.shuttingDown());
    });
    const runs = runner.close();
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
    await Promise.race([Promise.allSettled([runs, ...this.pending]), timeout]);
    this.stopping.abort();
    await Promise.allSettled([runs, ...this.pending]);
    await queue.close();
    blobs.close();
    await codec.close();
  }

  /** Jobs this process is running now. */
  get activeCount(): number {
    return this.runs.size;
  }

  /** The runner's side: runs one job here, from the queue's record to stored files and an outcome. */
  async run(job: RunningJob<JobData>): Promise<RunOutcome<JobResult>> {
    const { blobs, logger } = this.parts;
    const { id, data } = job;
    let ended = () => undefined as void;
    const run: Run = { enrichment: null, ended: new Promise<void>((resolve) => (ended = resolve)) };
    this.runs.set(id, run);
    const signal = AbortSignal.any([job.signal, this.stopping.signal]);
    let input: LocalCopy | null = null;
    let texture: LocalCopy | null = null;
    let copies = false;
    try {
      if (job.signal.aborted) return await this.discard(id);
      // A job that starts now would only be cut by the shutdown.
      if (this.closing) return { kind: 'requeue', afterMs: 0 };
      input = await blobs.stageLocal(jobFiles.input(id));
      if (!input) return await this.discard(id);
      if (data.texture) {
        texture = await blobs.stageLocal(jobFiles.texture(id));
        if (!texture) return await this.discard(id);
      }
      const report = (stage: JobStage, fraction: number) => {
        job.progress({ stage, fraction }).catch((error: unknown) => logger.warn({ err: error, jobId: id }, 'could not report progress'));
      };
      run.enrichment = new Enrichment(
        { ...this.parts, encodeSlots: this.encodeSlots },
        { id, data, input: input.path, texture: texture?.path, maxDurationSeconds: this.limits.maxDurationSeconds, signal, report },
      );
      const output = await run.enrichment.run();
      // Deleted while the result was being stored: what was stored goes too.
      if (await job.cancelled()) return await this.discard(id);
      logger.info({ jobId: id, style: data.params.style, seconds: output.durationSeconds }, 'job done');
      if (data.oneShot) return { kind: 'done', result: { output } };
      copies = true;
      const until = new Date(this.now().getTime() + COPIES_BASE_MS + COPIES_MS_PER_SECOND * output.durationSeconds);
      return { kind: 'done', result: { output, copies: { runner: this.instance, until: until.toISOString() } } };
    } catch (error) {
      if (job.signal.aborted) return await this.discard(id);
      // Cut by the end of the shutdown's grace: the job did nothing wrong, and runs again where it can.
      if (this.stopping.signal.aborted) return { kind: 'requeue', afterMs: 0 };
      const failure = this.failureOf(id, error);
      // A failed job keeps its record, so the client can read why, but no files: there is no result to serve.
      await blobs.removeJob(id).catch((removal: unknown) => logger.warn({ err: removal, jobId: id }, 'could not delete a failed job'));
      return { kind: 'failed', reason: failureRecord(failure) };
    } finally {
      await input?.release();
      await texture?.release();
      this.runs.delete(id);
      ended();
      // Once the run's own staging copies are gone (they share the job's folder), and before the runner reports
      // the job done, so a request that follows finds them under way.
      if (copies) this.makeListeningCopies(id, data);
    }
  }

  /**
   * The copies a player streams (the result as mp3, and the part of the input it enriched) are made once the job
   * is done rather than before, so the job is done as soon as its master is stored: each is about as long as
   * ffmpeg's own transcode of the song. They are derived files like any download's encode: one at a time for the
   * job, in an encoder slot; a request for one waits for it here (and makes it where it is not being made);
   * DELETE, expiry and the shutdown stop them. A copy that is not made now is made when it is first asked for.
   */
  private makeListeningCopies(id: string, data: JobData): void {
    const { blobs, logger } = this.parts;
    const copies: Array<[JobFile, (partial: string, signal: AbortSignal) => Promise<void>]> = [
      [jobFiles.result(id, LISTENING_FORMAT), (partial, signal) => this.transcode(jobFiles.result(id, 'wav'), LISTENING_FORMAT, partial, signal)],
      [jobFiles.original(id), (partial, signal) => this.writeOriginal(id, data.params, partial, signal)],
    ];
    const controller = new AbortController();
    const make = async () => {
      for (const [file, write] of copies) {
        // The job's own format may be the listening one, encoded while it ran.
        if (await blobs.exists(file)) continue;
        // Checked right before the copy is registered, so a deletion either stops it here or finds it running.
        if (controller.signal.aborted || this.closing) return;
        await this.derived(id, file, LISTENING_FORMAT, write);
      }
    };
    const done = this.track(
      make().catch((error: unknown) => {
        if (isGone(error) || (error instanceof AppError && error.code === ErrorCode.SHUTTING_DOWN)) return;
        logger.warn({ err: error, jobId: id }, 'a listening copy was not made; it is made when first asked for');
      }),
    ).finally(() => this.copying.delete(id));
    this.copying.set(id, { done, controller });
  }

  /**
   * A listening copy for a request: stored already; being made by the job's runner elsewhere, looked for until it
   * is stored or the runner's time is up; or made here (or waited for, if this process is making it already).
   */
  private async listeningCopy(job: Job, file: JobFile, write: (partial: string, signal: AbortSignal) => Promise<void>): Promise<void> {
    const { blobs } = this.parts;
    if (await this.reachable(blobs.exists(file))) return;
    const { copies } = job;
    if (copies && copies.runner !== this.instance) {
      const deadline = Date.now() + (copies.until.getTime() - this.now().getTime());
      while (Date.now() < deadline) {
        if (await this.reachable(blobs.exists(file))) return;
        // Deleted or expired meanwhile: 404, as for any request.
        await this.record(job.id);
        await sleep(COPY_POLL_MS, undefined, { signal: this.stopping.signal }).catch(() => {
          throw errors.shuttingDown();
        });
      }
    }
    if (!(await this.reachable(blobs.exists(file)))) await this.derived(job.id, file, LISTENING_FORMAT, write);
  }

  /** Hears the queue's changes from the first subscriber on; a process nobody follows jobs in never listens. */
  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.parts.queue.onChange((id, record) => {
      if (this.changes.listenerCount(id) === 0) return;
      if (record) return this.changes.emit(id, jobOf(record));
      this.get(id).then(
        (job) => this.changes.emit(id, job),
        (error: unknown) => isGone(error) && this.changes.emit(id, null),
      );
    });
  }

  /** The job's record, unless it is unknown, deleted or expired. */
  private async record(id: string): Promise<JobRecord> {
    const { queue } = this.parts;
    // Ids are checked first: BullMQ keeps its own keys beside the jobs' (`meta`, `events`), and a request naming
    // one got a 503 from Redis's type error instead of a 404.
    const record = isJobId(id) ? await this.reachable(queue.find(id)) : null;
    if (!record) throw errors.jobNotFound();
    // A job deleted while its runner held it keeps its record until the runner lets go.
    if ((record.state === 'active' || record.state === 'failed') && (await this.reachable(queue.isCancelled(id)))) throw errors.jobNotFound();
    if ((record.state === 'completed' || record.state === 'failed') && Date.parse(record.data.expiresAt) <= this.now().getTime()) throw errors.jobNotFound();
    return record;
  }

  private stored(file: JobFile): StoredFile {
    const { blobs } = this.parts;
    return {
      name: file.name,
      open: async (range) => {
        const read = await this.reachable(blobs.openRange(file, range));
        if (!read) throw errors.jobNotFound();
        return read;
      },
    };
  }

  /**
   * Makes a file derived from a job's stored ones (an encode, the added layer) in this process, once: later
   * requests for the same file wait on the first one. Runners only encode the job's own format.
   */
  private derived(id: string, file: JobFile, format: OutputFormat, make: (partial: string, signal: AbortSignal) => Promise<void>): Promise<void> {
    const name = `${id}/${file.name}`;
    const running = this.encodings.get(name);
    if (running) return running.done;
    if (this.closing) throw errors.shuttingDown();
    if (this.encodings.size >= this.limits.encodeConcurrency + this.limits.maxEncodeQueue) {
      throw errors.busy('The server is busy encoding other downloads. Try again in a minute, or download the wav.', 30);
    }
    const controller = new AbortController();
    const done = this.track(this.derive(id, file, format, make, controller.signal)).finally(() => this.encodings.delete(name));
    this.encodings.set(name, { jobId: id, done, controller });
    return done;
  }

  /**
   * Makes the file in its turn, into a partial file stored when complete, so a cut-short one is never served.
   * Deleting or expiring the job, or the end of the shutdown's grace, stops it (and kills its ffmpeg).
   */
  private async derive(
    id: string,
    file: JobFile,
    format: OutputFormat,
    make: (partial: string, signal: AbortSignal) => Promise<void>,
    cancel: AbortSignal,
  ): Promise<void> {
    const { blobs, files, logger } = this.parts;
    const signal = AbortSignal.any([cancel, this.stopping.signal]);
    let release: (() => void) | null = null;
    let partial: string | null = null;
    try {
      release = await this.encodeSlots.acquire(signal);
      if (this.closing) throw errors.shuttingDown();
      partial = `${await blobs.localPath(file)}.part`;
      await make(partial, signal);
      // Deleted or expired while it was made (by another process, where the queue is shared): nothing is stored.
      await this.record(id);
      const made = partial;
      partial = null; // adopt takes it over, failed or not
      await this.reachable(blobs.adopt(file, made, CONTENT_TYPES[format]));
      // Deleted between that look and the file's arrival: the deletion may have missed it, so it goes now.
      if (!(await this.stillThere(id))) {
        await blobs.removeJob(id).catch(() => undefined);
        throw errors.jobNotFound();
      }
    } catch (error) {
      if (partial) await blobs.abandon(file, partial).catch(() => undefined);
      if (signal.aborted || isAbortError(error)) throw this.closing ? errors.shuttingDown() : errors.jobNotFound();
      const known = toKnownError(error);
      if (!known || known.status >= 500) logger.error({ err: error, jobId: id, file: file.name }, 'encode failed');
      throw known ?? error;
    } finally {
      release?.();
    }
  }

  /** Encodes a stored WAV of the job (the master, or the layer) into `format`. */
  private async transcode(source: JobFile, format: CompressedFormat, partial: string, signal: AbortSignal): Promise<void> {
    const wav = await this.reachable(this.parts.blobs.stageLocal(source));
    if (!wav) throw errors.jobNotFound();
    try {
      await this.parts.codec.transcode(wav.path, format, partial, signal);
    } finally {
      await wav.release();
    }
  }

  /** The original's listening copy: the part of the input that was enriched, decoded again as the job decoded it. */
  private async writeOriginal(id: string, params: JobData['params'], partial: string, signal: AbortSignal): Promise<void> {
    const { blobs, codec, files } = this.parts;
    const input = await this.reachable(blobs.stageLocal(jobFiles.input(id)));
    if (!input) throw errors.jobNotFound();
    try {
      await writeOriginalCopy(codec, files, { input: input.path, params, maxDurationSeconds: this.limits.maxDurationSeconds }, partial, signal);
    } finally {
      await input.release();
    }
  }

  /** Whether the job is still there: not deleted, not expired. */
  private async stillThere(id: string): Promise<boolean> {
    return this.record(id).then(
      () => true,
      (error: unknown) => !isGone(error),
    );
  }

  /** The added layer as a WAV: the master less the input, decoded again as the job decoded it. */
  private async writeLayer(job: Job, partial: string, signal: AbortSignal): Promise<void> {
    const { blobs, codec } = this.parts;
    if (!job.output) throw errors.jobNotDone(job.status);
    const input = await this.reachable(blobs.stageLocal(jobFiles.input(job.id)));
    if (!input) throw errors.jobNotFound();
    try {
      const master = await this.reachable(blobs.stageLocal(jobFiles.result(job.id, 'wav')));
      if (!master) throw errors.jobNotFound();
      try {
        const tags = resultTags(job, this.parts.models.catalog().list(), 'layer');
        const sources = { input: input.path, master: master.path, params: job.params, output: job.output, maxDurationSeconds: this.limits.maxDurationSeconds, tags };
        await writeLayer(codec, sources, partial, signal);
      } finally {
        await master.release();
      }
    } finally {
      await input.release();
    }
  }

  /** Stops this process's work on a job and waits for it: no encoder outlives its job's files. */
  private async settleHere(id: string): Promise<void> {
    const copies = this.copying.get(id);
    copies?.controller.abort();
    const encodes = [...this.encodings.values()].filter((encoding) => encoding.jobId === id);
    for (const encoding of encodes) encoding.controller.abort();
    await Promise.allSettled([this.runs.get(id)?.ended, copies?.done, ...encodes.map((encoding) => encoding.done)]);
  }

  private async discard(id: string): Promise<RunOutcome<JobResult>> {
    await this.parts.blobs.removeJob(id);
    return { kind: 'discard' };
  }

  /** Why a job failed, for its client; the unexpected is logged, and the client told only that it failed. */
  private failureOf(id: string, error: unknown): AppError {
    const known = toKnownError(error);
    if (known) return known;
    this.parts.logger.error({ err: error, jobId: id }, 'job failed');
    return errors.enrichFailed();
  }

  /**
   * The queue or the storage failing is the servers' trouble, and passing: a 503 the client may retry. A full
   * disk is 507, a range past the end 416.
   */
  private async reachable<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (isDiskFull(error)) throw errors.diskFull();
      if (error instanceof RangeNotSatisfiable) throw errors.badRequest(416);
      this.parts.logger.error({ err: error }, 'the queue or the file storage failed');
      throw errors.storageUnavailable();
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const forget = () => this.pending.delete(work);
    work.then(forget, forget);
    return work;
  }
}

/** The error of a job that is unknown, deleted or expired. */
export function isGone(error: unknown): boolean {
  return error instanceof AppError && error.code === ErrorCode.JOB_NOT_FOUND;
}

export type { Job, Upload };
