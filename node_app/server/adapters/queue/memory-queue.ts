import { EventEmitter } from 'node:events';
import type { ChangeListener, JobQueue, JobRunner, QueuedJob, RunningJob, RunOutcome } from './job-queue.js';

interface Entry<D, R> {
  job: QueuedJob<D, R>;
  cancelled: boolean;
  /** Aborts the job's run, while a runner holds it. */
  controller?: AbortController;
}

interface Consumer<D, R> {
  run: (job: RunningJob<D>) => Promise<RunOutcome<R>>;
  free: number;
  closed: boolean;
  active: Set<Promise<void>>;
}

/**
 * The queue of the embedded mode: records in this process's memory, taken by this process's own runner, so
 * they go when the process goes. A job is handed to a free runner slot the moment it is added, so `waiting`
 * counts only jobs that really wait. (Tests stand it in for a shared queue, with several runners.)
 */
export class MemoryQueue<D, R> implements JobQueue<D, R> {
  private readonly entries = new Map<string, Entry<D, R>>();
  private readonly waiting: string[] = [];
  private readonly changes = new EventEmitter();
  private readonly consumers: Array<Consumer<D, R>> = [];
  private strand: ((id: string) => Promise<string>) | null = null;

  constructor() {
    this.changes.setMaxListeners(0);
  }

  async add(id: string, data: D): Promise<void> {
    this.entries.set(id, { job: { id, state: 'waiting', data, progress: undefined }, cancelled: false });
    this.waiting.push(id);
    this.changed(id);
    this.dispatch();
  }

  async find(id: string): Promise<QueuedJob<D, R> | null> {
    const entry = this.entries.get(id);
    return entry ? { ...entry.job } : null;
  }

  async position(id: string): Promise<number | null> {
    const index = this.waiting.indexOf(id);
    return index < 0 ? null : index;
  }

  async backlog(): Promise<{ waiting: number; idleRunners: number }> {
    const idle = this.consumers.reduce((sum, consumer) => sum + (consumer.closed ? 0 : consumer.free), 0);
    return { waiting: this.waiting.length, idleRunners: idle };
  }

  async runnerCount(): Promise<number> {
    return this.consumers.filter((consumer) => !consumer.closed).length;
  }

  async update(id: string, data: D): Promise<void> {
    const entry = this.entries.get(id);
    if (entry) entry.job.data = data;
  }

  async markCancelled(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.cancelled = true;
    entry.controller?.abort();
  }

  async isCancelled(id: string): Promise<boolean> {
    return this.entries.get(id)?.cancelled ?? false;
  }

  async remove(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    if (entry.job.state === 'active') return false;
    this.forget(id);
    return true;
  }

  async exists(id: string): Promise<boolean> {
    return this.entries.has(id);
  }

  async *finished(): AsyncGenerator<{ id: string; data: D }> {
    for (const [id, { job }] of [...this.entries]) if (job.state === 'completed' || job.state === 'failed') yield { id, data: job.data };
  }

  onChange(listener: ChangeListener<D, R>): void {
    this.changes.on('change', listener);
  }

  async release(strand: (id: string) => Promise<string>): Promise<void> {
    this.strand = strand;
    await Promise.all(this.waiting.splice(0).map((id) => this.fail(id, strand)));
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  /** This process's runner: takes the queue's jobs, `concurrency` at a time, in the order they came. */
  runner(concurrency: number): JobRunner<D, R> {
    let consumer: Consumer<D, R> | null = null;
    return {
      start: (run) => {
        consumer = { run, free: concurrency, closed: false, active: new Set() };
        this.consumers.push(consumer);
        this.dispatch();
      },
      close: async () => {
        if (!consumer) return;
        consumer.closed = true;
        await Promise.all(consumer.active);
      },
    };
  }

  private dispatch(): void {
    for (;;) {
      const consumer = this.consumers.find((c) => !c.closed && c.free > 0);
      if (!consumer || this.waiting.length === 0) return;
      const entry = this.entries.get(this.waiting.shift()!);
      if (!entry) continue;
      consumer.free--;
      const running = this.runOne(consumer, entry).finally(() => {
        consumer.active.delete(running);
        consumer.free++;
        this.dispatch();
      });
      consumer.active.add(running);
    }
  }

  private async runOne(consumer: Consumer<D, R>, entry: Entry<D, R>): Promise<void> {
    const { job } = entry;
    const controller = new AbortController();
    entry.controller = controller;
    job.state = 'active';
    job.progress = undefined;
    this.changed(job.id);
    const outcome = await consumer
      .run({
        id: job.id,
        data: job.data,
        signal: controller.signal,
        progress: async (value) => {
          job.progress = value;
          this.changed(job.id);
        },
        cancelled: async () => entry.cancelled,
      })
      .catch((): RunOutcome<R> => ({ kind: 'failed', reason: '' }));
    entry.controller = undefined;
    switch (outcome.kind) {
      case 'done':
        Object.assign(job, { state: 'completed', result: outcome.result });
        this.changed(job.id);
        return;
      case 'failed':
        Object.assign(job, { state: 'failed', failure: outcome.reason });
        this.changed(job.id);
        return;
      case 'discard':
        this.forget(job.id);
        return;
      case 'requeue':
        // Handed back while this process stops: nobody else will ever take it.
        if (this.strand) return this.fail(job.id, this.strand);
        job.state = 'waiting';
        this.changed(job.id);
        setTimeout(() => {
          this.waiting.push(job.id);
          this.dispatch();
        }, outcome.afterMs).unref();
    }
  }

  private async fail(id: string, strand: (id: string) => Promise<string>): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    Object.assign(entry.job, { state: 'failed', failure: await strand(id) });
    this.changed(id);
  }

  private forget(id: string): void {
    this.entries.delete(id);
    const waiting = this.waiting.indexOf(id);
    if (waiting >= 0) this.waiting.splice(waiting, 1);
    this.changed(id);
  }

  private changed(id: string): void {
    const entry = this.entries.get(id);
    this.changes.emit('change', id, entry ? { ...entry.job } : null);
  }
}
