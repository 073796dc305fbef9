import path from 'node:path';
import type { RunOutcome, RunningJob } from '../adapters/queue/bullmq-queue.js';
import { newJobId, type FileStore } from '../adapters/storage/file-store.js';
import type { ObjectStore } from '../adapters/storage/object-store.js';
import { AppError, CONTENT_TYPES, ErrorCode } from '../../contract/index.js';
import type { Logger } from '../logger.js';
import type { Job, JobService } from './job-service.js';
import { failureRecord, jobPrefix, objectKey, type EnrichOutcome, type QueuedEnrich, type QueuedProgress } from './queued-job.js';

export interface QueuedJobRunnerOptions {
  /** The embedded job service of this worker process: the same decode → model → master pipeline. */
  jobs: JobService;
  store: ObjectStore;
  files: FileStore;
  logger: Logger;
}

/** Progress goes to Redis and out to every web process: a few updates a second is plenty for a progress bar. */
const PROGRESS_EVERY_MS = 500;
/** How often a running job looks whether it was deleted meanwhile. */
const CANCEL_POLL_MS = 1_000;
/** A worker that cannot take a job now (its disk is full, its models unready) puts it back for this long. */
const RETRY_LATER_MS = 5_000;

/**
 * Runs one queued job in a worker process: fetches the input from object storage, enriches it with the
 * embedded `JobService` on the local disk, stores the WAV master, and removes every local file. A failed job
 * leaves only its error record; a deleted one leaves nothing; one cut by a shutdown goes back to the queue.
 */
export class QueuedJobRunner {
  constructor(private readonly options: QueuedJobRunnerOptions) {}

  async run(queued: RunningJob<QueuedEnrich>): Promise<RunOutcome<EnrichOutcome>> {
    const { jobs, store, files, logger } = this.options;
    const { id, data } = queued;
    if (await queued.cancelled()) return this.discard(id);
    const upload = path.join(files.uploadsDir, newJobId());
    const found = await store.getFile(objectKey(id, 'input'), upload).catch(async (error: unknown) => {
      await files.removeFile(upload);
      throw error;
    });
    if (!found) {
      await files.removeFile(upload);
      return this.discard(id);
    }
    let local: Job;
    try {
      // Same seed, style and section as accepted: a job run again (its worker died) gives the same bytes.
      const { style, amount, seed, format, start, end } = data.params;
      local = await jobs.submit({ path: upload, originalName: data.input.name }, { style, amount, seed, format, start, end });
    } catch (error) {
      if (error instanceof AppError && error.status >= 500) return { kind: 'requeue', afterMs: RETRY_LATER_MS };
      return this.fail(id, error);
    }

    let cancelled = false;
    let lastReport = 0;
    let lastStage = '';
    const unsubscribe = jobs.subscribe(local.id, (job) => {
      const at = Date.now();
      if (job.stage === lastStage && at - lastReport < PROGRESS_EVERY_MS) return;
      lastReport = at;
      lastStage = job.stage;
      const progress: QueuedProgress = { stage: job.stage, progress: job.progress };
      queued.progress(progress).catch((error: unknown) => logger.warn({ err: error, jobId: id }, 'could not report progress'));
    });
    const poll = setInterval(() => {
      queued.cancelled().then(
        (yes) => {
          if (!yes || cancelled) return;
          cancelled = true;
          void jobs.remove(local.id).catch(() => undefined);
        },
        () => undefined,
      );
    }, CANCEL_POLL_MS);
    try {
      const settled = await jobs.settled(local.id);
      if (!cancelled && settled.status === 'done') {
        await store.putFile(objectKey(id, 'result.wav'), await jobs.resultPath(local.id, 'wav'), CONTENT_TYPES.wav);
        // The format the client asked for was encoded here while enriching: stored beside the master, so
        // the web process serves it without a second pass.
        const { format } = data.params;
        if (format !== 'wav') await store.putFile(objectKey(id, `result.${format}`), await jobs.resultPath(local.id, format), CONTENT_TYPES[format]);
        // Deleted while the result was being stored: what was stored goes too.
        if (await queued.cancelled()) return this.discard(id);
        logger.info({ jobId: id, seconds: settled.output?.durationSeconds }, 'queued job done');
        return { kind: 'done', result: { output: settled.output!, peaks: await jobs.peaks(local.id) } };
      }
      if (cancelled) return this.discard(id);
      if (settled.error?.code === ErrorCode.SHUTTING_DOWN) return { kind: 'requeue', afterMs: 0 };
      return this.fail(id, settled.error);
    } finally {
      clearInterval(poll);
      unsubscribe();
      await jobs.remove(local.id).catch(() => undefined);
    }
  }

  private async discard(id: string): Promise<RunOutcome<EnrichOutcome>> {
    await this.options.store.removePrefix(jobPrefix(id));
    return { kind: 'discard' };
  }

  /** Only the error record stays: the input goes, and there is no result. */
  private async fail(id: string, error: unknown): Promise<RunOutcome<EnrichOutcome>> {
    await this.options.store.removePrefix(jobPrefix(id));
    if (error instanceof AppError) return { kind: 'failed', reason: failureRecord(error) };
    this.options.logger.error({ err: error, jobId: id }, 'queued job failed');
    return { kind: 'failed', reason: '' };
  }
}
