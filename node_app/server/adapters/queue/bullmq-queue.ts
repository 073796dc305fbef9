import { DelayedError, Job as BullJob, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { redisOptions } from './redis.js';

const QUEUE_NAME = 'enrich';
/** Marks of jobs deleted while a worker held them; kept a day, far longer than any job runs. */
const CANCEL_TTL_S = 86_400;
/** Queue events kept in Redis: enough for every listener to catch up, small on a 25 MB Key-Value Store plan. */
const EVENTS_MAX_LEN = 2_000;

export type QueuedState = 'waiting' | 'active' | 'completed' | 'failed';

/** A job as the queue holds it: its data, where it is, and what the worker reported. */
export interface QueuedJob<D, R> {
  id: string;
  state: QueuedState;
  data: D;
  progress: unknown;
  result?: R;
  /** Why the job failed, as the worker put it. */
  failure?: string;
}

/** What the queue tells its listeners: a job's state or progress changed. */
export type QueueChange = 'waiting' | 'active' | 'progress' | 'completed' | 'failed' | 'removed';

/**
 * The enrichment queue on BullMQ over Redis, as web processes use it: add and look up jobs, hear of their
 * changes from whichever process made them (BullMQ's QueueEvents), mark jobs as deleted for their worker.
 */
export class EnrichQueue<D, R> {
  private readonly queue: Queue;
  private readonly events: QueueEvents;

  /** `redis` is a plain client this queue takes over (and closes) for its cancellation marks and health checks. */
  constructor(
    redisUrl: string,
    private readonly redis: Redis,
  ) {
    const connection = redisOptions(redisUrl);
    this.queue = new Queue(QUEUE_NAME, { connection, streams: { events: { maxLen: EVENTS_MAX_LEN } } });
    this.events = new QueueEvents(QUEUE_NAME, { connection });
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
    return toQueued(job, state === 'active' || state === 'completed' || state === 'failed' ? state : 'waiting');
  }

  /** Jobs that no worker has taken yet. */
  async waitingCount(): Promise<number> {
    const counts = await this.queue.getJobCounts('wait', 'prioritized', 'delayed');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async update(id: string, data: D): Promise<void> {
    await this.queue.getJob(id).then((job) => job?.updateData(data));
  }

  /** Removes the job's record; false while a worker holds the job (it is removed when the worker lets go). */
  async remove(id: string): Promise<boolean> {
    return (await this.queue.remove(id)) === 1;
  }

  async markCancelled(id: string): Promise<void> {
    await this.redis.set(cancelKey(id), '1', 'EX', CANCEL_TTL_S);
  }

  async isCancelled(id: string): Promise<boolean> {
    return (await this.redis.exists(cancelKey(id))) === 1;
  }

  /** Ids and data of the jobs that have finished, done or failed. */
  async *finished(): AsyncGenerator<{ id: string; data: D }> {
    const PAGE = 200;
    for (let start = 0; ; start += PAGE) {
      const jobs = await this.queue.getJobs(['completed', 'failed'], start, start + PAGE - 1, true);
      for (const job of jobs) if (job?.id) yield { id: job.id, data: job.data as D };
      if (jobs.length < PAGE) return;
    }
  }

  async exists(id: string): Promise<boolean> {
    return (await this.queue.getJob(id)) !== undefined;
  }

  /** Calls `listener` with each change to any job, from whichever process made it. */
  onChange(listener: (id: string, change: QueueChange) => void): void {
    for (const change of ['waiting', 'active', 'progress', 'completed', 'failed', 'removed'] as const) {
      this.events.on(change, ({ jobId }: { jobId: string }) => listener(jobId, change));
    }
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.events.close()]);
    this.redis.disconnect();
  }
}

/** What a worker gets to run one job. */
export interface RunningJob<D> {
  id: string;
  data: D;
  /** Reports progress to every web process listening. */
  progress(value: object): Promise<void>;
  /** True once a web process has deleted the job. */
  cancelled(): Promise<boolean>;
}

/** How a run ended: the result; a failure to record; back in the queue for another worker; or thrown away (deleted). */
export type RunOutcome<R> =
  | { kind: 'done'; result: R }
  | { kind: 'failed'; reason: string }
  | { kind: 'requeue'; afterMs: number }
  | { kind: 'discard' };

/** Marks a run whose job was deleted, so its record goes once BullMQ has let go of it. */
class Discarded extends Error {}

export interface EnrichWorkerOptions {
  /** Jobs run at once by this process. */
  concurrency: number;
  /** How long a worker's claim on a job lasts unless renewed; a killed worker's jobs run again after it lapses. */
  lockMs: number;
}

/** A worker process's side of the queue: takes jobs one `concurrency` at a time and runs them. */
export class EnrichWorker<D, R> {
  private readonly worker: Worker;
  private readonly redis: Redis;

  constructor(redisUrl: string, redis: Redis, options: EnrichWorkerOptions, run: (job: RunningJob<D>) => Promise<RunOutcome<R>>) {
    this.redis = redis;
    this.worker = new Worker(
      QUEUE_NAME,
      async (job: BullJob, token?: string) => {
        const outcome = await run({
          id: job.id!,
          data: job.data as D,
          progress: (value) => job.updateProgress(value),
          cancelled: async () => (await redis.exists(cancelKey(job.id!))) === 1,
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
      },
      {
        connection: redisOptions(redisUrl),
        concurrency: options.concurrency,
        lockDuration: options.lockMs,
        stalledInterval: options.lockMs,
        autorun: false,
      },
    );
    this.worker.on('failed', (job, error) => {
      if (job && error instanceof Discarded) void job.remove().catch(() => undefined);
    });
  }

  /** Starts taking jobs (once the models are loaded). */
  start(): void {
    this.worker.run().catch((error: unknown) => this.worker.emit('error', error instanceof Error ? error : new Error(String(error))));
  }

  /** Takes no more jobs; resolves when the ones running have ended. */
  async close(): Promise<void> {
    await this.worker.close();
    this.redis.disconnect();
  }

  onError(listener: (error: Error) => void): void {
    this.worker.on('error', listener);
  }
}

function toQueued<D, R>(job: BullJob, state: QueuedState): QueuedJob<D, R> {
  return {
    id: job.id!,
    state,
    data: job.data as D,
    progress: job.progress,
    result: state === 'completed' ? (job.returnvalue as R) : undefined,
    failure: state === 'failed' ? job.failedReason : undefined,
  };
}

function cancelKey(id: string): string {
  return `enricher:cancelled:${id}`;
}
