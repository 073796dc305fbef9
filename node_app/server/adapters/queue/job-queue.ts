/**
 * The jobs' records and their queue, and the runners that take jobs from it: in this process's memory with an
 * in-process runner (the embedded mode), or in Redis through BullMQ with worker processes (the distributed
 * mode). The job service is written once against these two ports.
 */

/** Where a job is: waiting for a runner, held by one, or finished. */
export type QueuedState = 'waiting' | 'active' | 'completed' | 'failed';

/** A job as the queue holds it: its data, where it is, and what its runner reported. */
export interface QueuedJob<D, R> {
  id: string;
  state: QueuedState;
  data: D;
  /** The runner's last report, as it sent it. */
  progress: unknown;
  result?: R;
  /** Why the job failed, as its runner put it. */
  failure?: string;
}

/** Calls come with the job as it is now where the queue has it at hand (in memory); otherwise look it up. */
export type ChangeListener<D, R> = (id: string, job: QueuedJob<D, R> | null) => void;

export interface JobQueue<D, R> {
  add(id: string, data: D): Promise<void>;
  find(id: string): Promise<QueuedJob<D, R> | null>;
  /** Jobs no runner has taken yet, and runners of this queue known to be free for a new one. */
  backlog(): Promise<{ waiting: number; idleRunners: number }>;
  /** How many jobs wait ahead of this one for a runner (0: it is next), or null once it is no longer waiting. */
  position(id: string): Promise<number | null>;
  /** Runners taking this queue's jobs now, busy or idle, in any process. */
  runnerCount(): Promise<number>;
  /** Replaces the job's data (a rating given later). */
  update(id: string, data: D): Promise<void>;
  /** Marks the job deleted, so that the runner holding it stops. */
  markCancelled(id: string): Promise<void>;
  isCancelled(id: string): Promise<boolean>;
  /** Removes the job's record; false while a runner holds the job (its record goes when the runner lets go). */
  remove(id: string): Promise<boolean>;
  exists(id: string): Promise<boolean>;
  /** Ids and data of the jobs that have finished, done or failed. */
  finished(): AsyncGenerator<{ id: string; data: D }>;
  /** Calls `listener` with each change to any job, from whichever process made it. */
  onChange(listener: ChangeListener<D, R>): void;
  /**
   * This process stops running jobs. Jobs that no other process could ever run — the memory queue's, those
   * waiting now and those handed back later — fail with the reason `strand` gives after it has cleaned up
   * after them. A shared queue keeps its jobs for the other processes.
   */
  release(strand: (id: string) => Promise<string>): Promise<void>;
  /** Throws unless the queue answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How far a job has come: the stage it is in, and the fraction of that stage done. */
export interface ProgressReport {
  stage: string;
  fraction: number;
}

/** What a runner hands over to run one job. */
export interface RunningJob<D> {
  id: string;
  data: D;
  /** Aborted once the job is deleted (at once in memory; within a second in Redis). */
  signal: AbortSignal;
  /** Reports progress to whoever follows the job (a queue across processes may pass on only some reports). */
  progress(report: ProgressReport): Promise<void>;
  /** Whether the job has been deleted, looked up now. */
  cancelled(): Promise<boolean>;
}

/** How a run ended: the result; a failure to record; back in the queue for another runner; or thrown away (deleted). */
export type RunOutcome<R> =
  | { kind: 'done'; result: R }
  | { kind: 'failed'; reason: string }
  | { kind: 'requeue'; afterMs: number }
  | { kind: 'discard' };

/** Takes jobs from a queue and runs them: in this process, a BullMQ worker in a worker process, or none. */
export interface JobRunner<D, R> {
  /** Starts taking jobs; `run` runs each one. */
  start(run: (job: RunningJob<D>) => Promise<RunOutcome<R>>): void;
  /** Takes no more jobs; resolves once the ones running have ended. */
  close(): Promise<void>;
}

/** The runner of a process that runs no jobs: a web process of the distributed mode. */
export function noRunner<D, R>(): JobRunner<D, R> {
  return { start: () => undefined, close: async () => undefined };
}
