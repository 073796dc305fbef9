import type { QueuedJob } from '../adapters/bullmq-queue.js';
import type { Job, JobPeaks, JobStage } from './job-service.js';

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
  output: NonNullable<Job['output']>;
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

const UNKNOWN_FAILURE: NonNullable<Job['error']> = {
  status: 500,
  code: 'ENRICH_FAILED',
  message: 'Something went wrong while enriching this file. Try again, or try another file.',
};

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
function failureOf(reason: string | undefined): NonNullable<Job['error']> {
  try {
    const parsed = JSON.parse(reason ?? '') as Job['error'];
    if (parsed && typeof parsed.status === 'number' && typeof parsed.code === 'string') return parsed;
  } catch {
    // Not one of ours.
  }
  return UNKNOWN_FAILURE;
}
