import { EventEmitter } from 'node:events';
import path from 'node:path';
import {
  AppError,
  errors,
  type CompressedFormat,
  type EnrichParams,
  type JobPeaks,
  type OutputFormat,
  type Rating,
} from '../../contract/index.js';
import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { EnrichQueue, QueuedJob } from '../adapters/queue/bullmq-queue.js';
import { isJobId, newJobId, type FileStore } from '../adapters/storage/file-store.js';
import type { ObjectStore, StoredObjectRead } from '../adapters/storage/object-store.js';
import { isAbortError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FileLocation, JobQueue, RemoteFile } from './job-queue.js';
import type { Job, Upload } from './job-service.js';
import { toKnownError } from './media-failures.js';
import type { Models } from './models.js';
import { jobOf, jobPrefix, objectKey, type EnrichOutcome, type QueuedEnrich } from './queued-job.js';
import { Semaphore } from './semaphore.js';

export interface DistributedJobsOptions {
  queue: EnrichQueue<QueuedEnrich, EnrichOutcome>;
  store: ObjectStore;
  /** Styles only: this process enriches nothing itself. */
  models: Pick<Models, 'catalog'>;
  /** Encodes a download in another format than the stored WAV master, on the first request for it. */
  codec: AudioCodec;
  /** Local scratch space for those encodes. */
  files: FileStore;
  logger: Logger;
  /** Songs that may wait for a worker, across all processes, before new ones are refused with 503 BUSY. */
  maxQueue: number;
  ttlMs: number;
  encodeConcurrency: number;
  maxEncodeQueue: number;
  now?: () => Date;
}

/** Objects older than this without a job in the queue were left by a process that died between the two. */
const ORPHAN_AGE_MS = 15 * 60_000;
/** Changes can be missed while Redis reconnects; a waiting request looks again this often anyway. */
const RECHECK_MS = 5_000;

/**
 * Jobs in distributed mode, as a web process sees them: uploads go to object storage and onto the BullMQ
 * queue, workers (other processes) run them, and any web process answers for any job from what the queue and
 * the bucket hold. Same contract as the embedded `JobService`.
 */
export class DistributedJobs implements JobQueue {
  private readonly changes = new EventEmitter();
  private readonly encodeSlots: Semaphore;
  /** One encode per job and format in this process: later requests wait on the first one. */
  private readonly encodings = new Map<string, Promise<void>>();
  /** Requests waiting on a job (one-shot enrich calls) and encodes, for the shutdown's grace. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Aborted when the shutdown's grace ends: waits answer 503, encodes are killed. */
  private readonly stopping = new AbortController();
  private readonly now: () => Date;
  private sweeper: NodeJS.Timeout | null = null;
  private closing = false;

  constructor(private readonly options: DistributedJobsOptions) {
    this.encodeSlots = new Semaphore(options.encodeConcurrency);
    this.now = options.now ?? (() => new Date());
    this.changes.setMaxListeners(0);
    options.queue.onChange((id) => {
      if (this.changes.listenerCount(id) === 0) return;
      this.get(id).then(
        (job) => this.changes.emit(id, job),
        () => undefined,
      );
    });
  }

  async submit(upload: Upload, params: EnrichParams): Promise<Job> {
    const { queue, store, models } = this.options;
    try {
      if (this.closing) throw errors.shuttingDown();
      if ((await this.reachable(queue.waitingCount())) >= this.options.maxQueue) {
        throw errors.busy('The servers are busy with other songs. Try again in a minute.', 30);
      }
      const id = newJobId();
      const created = this.now();
      const data: QueuedEnrich = {
        params: models.catalog().settle(params).params,
        input: { name: upload.originalName },
        createdAt: created.toISOString(),
        expiresAt: new Date(created.getTime() + this.options.ttlMs).toISOString(),
      };
      await this.reachable(store.putFile(objectKey(id, 'input'), upload.path));
      try {
        await this.reachable(queue.add(id, data));
      } catch (error) {
        await store.removePrefix(jobPrefix(id)).catch(() => undefined);
        throw error;
      }
      return jobOf({ id, state: 'waiting', data, progress: 0 });
    } finally {
      await this.options.files.removeFile(upload.path);
    }
  }

  async get(id: string): Promise<Job> {
    const queued = await this.find(id);
    if (!queued) throw errors.jobNotFound();
    // A job deleted while its worker held it keeps its record until the worker lets go.
    if (queued.state === 'active' && (await this.options.queue.isCancelled(id))) throw errors.jobNotFound();
    const job = jobOf(queued);
    if ((job.status === 'done' || job.status === 'failed') && job.expiresAt <= this.now()) throw errors.jobNotFound();
    return job;
  }

  async settled(id: string): Promise<Job> {
    const waiting = new Promise<Job>((resolve, reject) => {
      let ended = false;
      const end = (settle: () => void) => {
        if (ended) return;
        ended = true;
        this.changes.off(id, onChange);
        clearInterval(recheck);
        this.stopping.signal.removeEventListener('abort', onStop);
        settle();
      };
      const onChange = (job: Job) => {
        if (job.status === 'done' || job.status === 'failed') end(() => resolve(job));
      };
      const look = () => this.get(id).then(onChange, (error: unknown) => end(() => reject(error)));
      const onStop = () => end(() => reject(errors.shuttingDown()));
      this.changes.on(id, onChange);
      const recheck = setInterval(look, RECHECK_MS);
      this.stopping.signal.addEventListener('abort', onStop);
      void look();
    });
    return this.track(waiting);
  }

  async subscribe(id: string, listener: (job: Job) => void): Promise<() => void> {
    await this.get(id);
    this.changes.on(id, listener);
    return () => this.changes.off(id, listener);
  }

  async inputPath(id: string): Promise<FileLocation> {
    const job = await this.get(id);
    if (job.status === 'failed') {
      throw errors.jobFailed();
    }
    return this.remote(objectKey(id, 'input'));
  }

  /** The result in `format`: the stored WAV master, or an encode of it kept beside it from the first request. */
  async resultPath(id: string, format: OutputFormat): Promise<FileLocation> {
    const job = await this.get(id);
    if (job.status !== 'done') {
      throw errors.jobNotDone(job.status);
    }
    const key = objectKey(id, `result.${format}`);
    if (format !== 'wav' && !(await this.options.store.exists(key))) await this.encoded(id, format);
    return this.remote(key);
  }

  async peaks(id: string): Promise<JobPeaks> {
    const queued = await this.find(id);
    if (queued?.state === 'completed' && queued.result) return queued.result.peaks;
    // Workers report progress, not the growing waveform: the picture comes with the result.
    await this.get(id);
    return { secondsPerPeak: 0, expectedPeaks: null, complete: false, input: [], result: [] };
  }

  async setFeedback(id: string, rating: Rating): Promise<Job> {
    const queued = await this.find(id);
    if (!queued) throw errors.jobNotFound();
    await this.options.queue.update(id, { ...queued.data, feedback: rating });
    this.options.logger.info({ jobId: id, rating, style: queued.data.params.style }, 'feedback');
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    const { queue, store } = this.options;
    if (!isJobId(id) || !(await queue.exists(id))) throw errors.jobNotFound();
    // The mark first: a worker that holds the job (or takes it now) stops and deletes what it wrote.
    await queue.markCancelled(id);
    await queue.remove(id);
    await store.removePrefix(jobPrefix(id));
  }

  startSweeper(): void {
    // S3's lifecycle rules work in whole days; results live minutes. Every process sweeps: it is idempotent.
    const intervalMs = Math.max(1_000, Math.min(60_000, this.options.ttlMs / 2));
    this.sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) => this.options.logger.warn({ err: error }, 'sweep failed'));
    }, intervalMs);
    this.sweeper.unref();
  }

  /** Deletes finished jobs whose time is up, and objects that belong to no job. */
  async sweep(): Promise<number> {
    const { queue, store } = this.options;
    const now = this.now().getTime();
    const expired: string[] = [];
    for await (const { id, data } of queue.finished()) if (Date.parse(data.expiresAt) <= now) expired.push(id);
    for (const id of expired) {
      await store.removePrefix(jobPrefix(id));
      await queue.remove(id);
    }
    const orphans = new Set<string>();
    for await (const object of store.list('jobs/')) {
      const id = object.key.split('/')[1];
      if (now - object.lastModified.getTime() > ORPHAN_AGE_MS && !orphans.has(id) && !(await queue.exists(id))) orphans.add(id);
    }
    for (const id of orphans) await store.removePrefix(jobPrefix(id));
    return expired.length;
  }

  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    const pending = [...this.pending];
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
    await Promise.race([Promise.allSettled(pending), timeout]);
    this.stopping.abort();
    await Promise.allSettled(pending);
    await this.options.queue.close();
    this.options.store.close();
    await this.options.codec.close();
  }

  get activeCount(): number {
    return this.pending.size;
  }

  /**
   * The job's record, or null. Ids are checked first: BullMQ keeps its own keys beside the jobs' (`meta`,
   * `events`), and a request naming one got a 503 from Redis's type error instead of a 404.
   */
  private async find(id: string): Promise<QueuedJob<QueuedEnrich, EnrichOutcome> | null> {
    return isJobId(id) ? this.reachable(this.options.queue.find(id)) : null;
  }

  private remote(key: string): RemoteFile {
    const { store } = this.options;
    return {
      async open(range?: string): Promise<StoredObjectRead> {
        const object = await store.get(key, range).catch((error: unknown) => {
          // The same answer as the embedded mode's, where Express refuses the range itself.
          if ((error as { name?: unknown }).name === 'InvalidRange') throw errors.badRequest(416);
          throw error;
        });
        if (!object) throw errors.jobNotFound();
        return object;
      },
    };
  }

  /** Encodes the master into `format` here (workers only write the master) and stores it beside it. */
  private encoded(id: string, format: CompressedFormat): Promise<void> {
    const name = `${id}.${format}`;
    const running = this.encodings.get(name);
    if (running) return running;
    if (this.closing) throw errors.shuttingDown();
    if (this.encodings.size >= this.options.encodeConcurrency + this.options.maxEncodeQueue) {
      throw errors.busy('The server is busy encoding other downloads. Try again in a minute, or download the wav.', 30);
    }
    const started = this.track(this.encode(id, format)).finally(() => this.encodings.delete(name));
    this.encodings.set(name, started);
    return started;
  }

  private async encode(id: string, format: CompressedFormat): Promise<void> {
    const { store, codec, files, logger } = this.options;
    const scratch = path.join(files.uploadsDir, newJobId());
    const master = `${scratch}.wav`;
    const encoded = `${scratch}.${format}`;
    let release: (() => void) | null = null;
    try {
      release = await this.encodeSlots.acquire(this.stopping.signal);
      if (!(await store.getFile(objectKey(id, 'result.wav'), master))) throw errors.jobNotFound();
      await codec.transcode(master, format, encoded, this.stopping.signal);
      await store.putFile(objectKey(id, `result.${format}`), encoded);
    } catch (error) {
      if (this.stopping.signal.aborted || isAbortError(error)) throw errors.shuttingDown();
      const known = toKnownError(error) ?? (error instanceof AppError ? error : null);
      if (!known || known.status >= 500) logger.error({ err: error, jobId: id, format }, 'encode failed');
      throw known ?? error;
    } finally {
      release?.();
      await Promise.all([files.removeFile(master), files.removeFile(encoded)]);
    }
  }

  /** Redis or the bucket failing is the servers' trouble, and passing: a 503 the client may retry. */
  private async reachable<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if (error instanceof AppError) throw error;
      this.options.logger.error({ err: error }, 'the queue or the object storage failed');
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
