import { DelayedError, Job as BullJob, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChangeListener, JobQueue, JobRunner, ProgressReport, QueuedJob, QueuedState, RunningJob, RunOutcome } from './job-queue.js';
import { redisOptions } from './redis.js';

const QUEUE_NAME = 'enrich';
/** Marks of jobs deleted while a worker held them; kept a day, far longer than any job runs. */
const CANCEL_TTL_S = 86_400;
/** Queue events kept in Redis: enough for every listener to catch up, small on a 25 MB Key-Value Store plan. */
const EVENTS_MAX_LEN = 2_000;
/** Progress goes to Redis and out to every web process: a few updates a second is plenty for a progress bar. */
const PROGRESS_EVERY_MS = 500;
/** How often a running job looks whether it was deleted meanwhile. */
const CANCEL_POLL_MS = 1_000;
/** Workers are listed with CLIENT LIST; every look at a waiting job asks, so one answer serves this long. */
const WORKERS_CACHE_MS = 2_000;

/** How the queue reads the jobs' data and results out of Redis: it parses them, never casts them. */
export interface Payloads<D, R> {
  data(raw: unknown): D;
  result(raw: unknown): R;
}

/**
 * The queue of the distributed mode, on BullMQ over Redis: every web process adds and looks up jobs, hears of
 * their changes from whichever process made them (BullMQ's QueueEvents), and marks jobs as deleted for their
 * worker.
 */
export class BullQueue<D, R> implements JobQueue<D, R> {
  private readonly queue: Queue;
  /** Made on the first listener: a worker process, which listens to nothing, holds no connection for it. */
  private events: QueueEvents | null = null;
  private workers: { at: number; count: Promise<number> } | null = null;

  /** `redis` is a plain client this queue takes over (and closes) for its cancellation marks and health checks. */
  constructor(
    private readonly redisUrl: string,
    private readonly redis: Redis,
    private readonly payloads: Payloads<D, R>,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: redisOptions(redisUrl), streams: { events: { maxLen: EVENTS_MAX_LEN } } });
  }

  async add(id: string, data: D): Promise<void> {
    // No retries of a job that failed on its own; a job whose worker died is taken up again by BullMQ's
    // stalled-job check, which does not count as an attempt.
    await this.queue.add(QUEUE_NAME, data, { jobId: id, attempts: 1 });
  }

  async find(id: string): Promise<QueuedJob<D, R> | null> {
    const job = await this.queue.getJob(id);
    if (!job) return null;
    const state = await job.getState();
    if (state === 'unknown') return null;
    return toQueued(job, state === 'active' || state === 'completed' || state === 'failed' ? state : 'waiting', this.payloads);
  }

  /** Workers in other processes cannot be counted as free: every job not taken yet waits. */
  async backlog(): Promise<{ waiting: number; idleRunners: number }> {
    const counts = await this.queue.getJobCounts('wait', 'prioritized', 'delayed');
    return { waiting: Object.values(counts).reduce((a, b) => a + b, 0), idleRunners: 0 };
  }

  /** Ids of the waiting list, oldest first: at most `MAX_QUEUE` of them, since more are refused with 503. */
  async position(id: string): Promise<number | null> {
    const index = (await this.queue.getRanges(['wait'], 0, -1, true)).indexOf(id);
    return index < 0 ? null : index;
  }

  /** Worker processes connected to the queue now, whether busy or idle (BullMQ names their connections). */
  async runnerCount(): Promise<number> {
    const now = Date.now();
    if (!this.workers || now - this.workers.at > WORKERS_CACHE_MS) {
      const count = this.queue.getWorkersCount();
      // A failed look is not kept: the next question asks Redis again.
      count.catch(() => {
        if (this.workers?.count === count) this.workers = null;
      });
      this.workers = { at: now, count };
    }
    return this.workers.count;
  }

  async update(id: string, data: D): Promise<void> {
    await this.queue.getJob(id).then((job) => job?.updateData(data));
  }

  async remove(id: string): Promise<boolean> {
    return (await this.queue.remove(id)) === 1;
  }

  async markCancelled(id: string): Promise<void> {
    await this.redis.set(cancelKey(id), '1', 'EX', CANCEL_TTL_S);
  }

  async isCancelled(id: string): Promise<boolean> {
    return (await this.redis.exists(cancelKey(id))) === 1;
  }

  async *finished(): AsyncGenerator<{ id: string; data: D }> {
    const PAGE = 200;
    for (let start = 0; ; start += PAGE) {
      const jobs = await this.queue.getJobs(['completed', 'failed'], start, start + PAGE - 1, true);
      for (const job of jobs) if (job?.id) yield { id: job.id, data: this.payloads.data(job.data) };
      if (jobs.length < PAGE) return;
    }
  }

  async exists(id: string): Promise<boolean> {
    return (await this.queue.getJob(id)) !== undefined;
  }

  onChange(listener: ChangeListener<D, R>): void {
    this.events ??= new QueueEvents(QUEUE_NAME, { connection: redisOptions(this.redisUrl) });
    for (const change of ['waiting', 'active', 'progress', 'completed', 'failed', 'removed'] as const) {
      this.events.on(change, ({ jobId }: { jobId: string }) => listener(jobId, null));
    }
  }

  /** Jobs stay in Redis for the other workers. */
  async release(): Promise<void> {}

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.events?.close()]);
    this.redis.disconnect();
  }
}

/** Marks a run whose job was deleted, so its record goes once BullMQ has let go of it. */
class Discarded extends Error {}

export interface BullRunnerOptions {
  /** Jobs run at once by this process. */
  concurrency: number;
  /** How long a worker's claim on a job lasts unless renewed; a killed worker's jobs run again after it lapses. */
  lockMs: number;
}

/** A worker process's runner: takes jobs from the BullMQ queue, `concurrency` at a time. */
export class BullRunner<D, R> implements JobRunner<D, R> {
  private readonly worker: Worker;
  private run: ((job: RunningJob<D>) => Promise<RunOutcome<R>>) | null = null;

  /** `redis` is a plain client this runner takes over (and closes) to look for cancellation marks. */
  constructor(
    redisUrl: string,
    private readonly redis: Redis,
    private readonly payloads: Pick<Payloads<D, R>, 'data'>,
    options: BullRunnerOptions,
  ) {
    this.worker = new Worker(QUEUE_NAME, (job: BullJob, token?: string) => this.process(job, token), {
      connection: redisOptions(redisUrl),
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      autorun: false,
    });
    this.worker.on('failed', (job, error) => {
      if (job && error instanceof Discarded) void job.remove().catch(() => undefined);
    });
  }

  start(run: (job: RunningJob<D>) => Promise<RunOutcome<R>>): void {
    this.run = run;
    this.worker.run().catch((error: unknown) => this.worker.emit('error', error instanceof Error ? error : new Error(String(error))));
  }

  async close(): Promise<void> {
    await this.worker.close();
    this.redis.disconnect();
  }

  onError(listener: (error: Error) => void): void {
    this.worker.on('error', listener);
  }

  private async process(job: BullJob, token?: string): Promise<R> {
    const run = this.run;
    if (!run) throw new Error('the runner has not started');
    const controller = new AbortController();
    const cancelled = async () => (await this.redis.exists(cancelKey(job.id!))) === 1;
    const poll = setInterval(() => {
      cancelled().then(
        (yes) => yes && controller.abort(),
        () => undefined,
      );
    }, CANCEL_POLL_MS);
    let last = { at: 0, stage: '' };
    try {
      const outcome = await run({
        id: job.id!,
        data: this.payloads.data(job.data),
        signal: controller.signal,
        cancelled,
        progress: async (report: ProgressReport) => {
          const at = Date.now();
          if (report.stage === last.stage && at - last.at < PROGRESS_EVERY_MS) return;
          last = { at, stage: report.stage };
          await job.updateProgress({ ...report });
        },
      });
      switch (outcome.kind) {
        case 'done':
          return outcome.result;
        case 'failed':
          throw new Error(outcome.reason);
        case 'discard':
          throw new Discarded('deleted');
        case 'requeue':
          // Back to the queue without counting as an attempt: the job did nothing wrong.
          await job.moveToDelayed(Date.now() + outcome.afterMs, token);
          throw new DelayedError();
      }
    } finally {
      clearInterval(poll);
    }
  }
}

function toQueued<D, R>(job: BullJob, state: QueuedState, payloads: Payloads<D, R>): QueuedJob<D, R> {
  return {
    id: job.id!,
    state,
    data: payloads.data(job.data),
    progress: job.progress,
    result: state === 'completed' ? payloads.result(job.returnvalue) : undefined,
    failure: state === 'failed' ? job.failedReason : undefined,
  };
}

function cancelKey(id: string): string {
  return `enricher:cancelled:${id}`;
}
