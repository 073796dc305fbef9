import { AppError, ERROR_CODES, errors, type ErrorCode, type JobOutput, type JobPeaks, type JobStage } from '../../contract/index.js';
import type { QueuedJob } from '../adapters/queue/bullmq-queue.js';
import type { Job } from './job-service.js';

/** A job's record in the shared queue, written by the web process that accepted it. */
export interface QueuedEnrich {
  params: Job['params'];
  input: Job['input'];
  createdAt: string;
  expiresAt: string;
  feedback?: Job['feedback'];
}

/** What a worker leaves in the queue when it has stored the result. */
export interface EnrichOutcome {
  output: JobOutput;
  peaks: JobPeaks;
}

/** What a worker reports while it runs a job. */
export interface QueuedProgress {
  stage: JobStage;
  progress: number;
}

/** Every object of a job lives under this prefix, so one listing finds (and one sweep deletes) them all. */
export const jobPrefix = (id: string): string => `jobs/${id}/`;
export const objectKey = (id: string, name: 'input' | `result.${string}`): string => `${jobPrefix(id)}${name}`;

/** How a worker records a failure in the queue, as JSON. */
export interface FailureRecord {
  status: number;
  code: ErrorCode;
  message: string;
  headers: Record<string, string>;
}

export function failureRecord(error: AppError): string {
  const record: FailureRecord = { status: error.status, code: error.code, message: error.message, headers: error.headers };
  return JSON.stringify(record);
}

/** The job as the API shows it, from what the queue holds. */
export function jobOf(queued: QueuedJob<QueuedEnrich, EnrichOutcome>): Job {
  const { data } = queued;
  const base = {
    id: queued.id,
    params: data.params,
    input: data.input,
    feedback: data.feedback,
    createdAt: new Date(data.createdAt),
    expiresAt: new Date(data.expiresAt),
  };
  switch (queued.state) {
    case 'waiting':
      return { ...base, status: 'queued', stage: 'queued', progress: 0 };
    case 'active': {
      const reported = (queued.progress ?? {}) as Partial<QueuedProgress>;
      return { ...base, status: 'running', stage: reported.stage ?? 'decoding', progress: reported.progress ?? 0 };
    }
    case 'completed':
      return { ...base, status: 'done', stage: 'done', progress: 1, output: queued.result?.output };
    case 'failed':
      return { ...base, status: 'failed', stage: 'failed', progress: 0, error: failureOf(queued.failure) };
  }
}

/** A worker records a failure as JSON; anything else (a job stalled past its limit) is the server's fault. */
function failureOf(reason: string | undefined): AppError {
  try {
    const { status, code, message, headers } = JSON.parse(reason ?? '') as Partial<FailureRecord>;
    if (typeof status === 'number' && ERROR_CODES.includes(code!) && typeof message === 'string') return new AppError(code!, message, headers, status);
  } catch {
    // Not one of ours.
  }
  return errors.enrichFailed();
}
