import { z } from 'zod/mini';
import {
  AppError,
  ERROR_CODES,
  errors,
  JOB_STAGES,
  jobOutputSchema,
  jobParamsSchema,
  progressAt,
  RATINGS,
  STAGE_RULES,
  type ErrorCode,
  type JobOutput,
  type JobParams,
  type JobStage,
  type JobStatus,
  type Rating,
} from '../../contract/index.js';
import type { QueuedJob } from '../adapters/queue/job-queue.js';

/** A job as the services and routes see it, whichever queue holds its record. */
export interface Job {
  id: string;
  status: JobStatus;
  stage: JobStage;
  progress: number;
  params: JobParams;
  input: { name: string };
  texture?: { name: string; sha256: string };
  output?: JobOutput;
  /** Where a done job's listening copies are being made, and until when a request elsewhere waits for them. */
  copies?: { runner: string; until: Date };
  /** Why the job failed, as its client will be told. */
  error?: AppError;
  /** For a queued job: how many songs wait ahead of it for a runner (0: it is next). */
  ahead?: number;
  /** Why a queued job is held up by something other than the songs ahead of it (no runner to take it). */
  notice?: string;
  feedback?: Rating;
  createdAt: Date;
  expiresAt: Date;
}

/** A file multer wrote, with the name the client gave it (a label only, never a path). */
export interface Upload {
  path: string;
  originalName: string;
}

/**
 * A job's record in the queue, written by the process that accepted it: all a runner needs to run it. A queue
 * shared between processes parses it with this schema on the way out, so a record that is not one is refused
 * instead of trusted.
 */
export const jobDataSchema = z.object({
  params: jobParamsSchema,
  /** The model's style weights, settled once when the job was accepted. */
  styleVector: z.array(z.number()),
  input: z.object({ name: z.string() }),
  /** The user's own recording (jobFiles.texture), for a mix with the style "own". */
  texture: z.optional(z.object({ name: z.string(), sha256: z.string() })),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  feedback: z.optional(z.enum(RATINGS)),
  /** Answered once and deleted (`POST /api/enrich`, the CLI): nobody plays it, so it gets no listening copies. */
  oneShot: z.optional(z.boolean()),
});
export type JobData = z.infer<typeof jobDataSchema>;

/**
 * What a runner leaves in the queue when the job is done; its files are in the blob store. `copies` names the
 * process that makes the listening copies after that, and the time by which they should be stored.
 */
export const jobResultSchema = z.object({
  output: jobOutputSchema,
  copies: z.optional(z.object({ runner: z.string(), until: z.iso.datetime() })),
});
export type JobResult = z.infer<typeof jobResultSchema>;

/** A runner's progress report: the stage it is in, and the fraction of that stage done. */
const progressSchema = z.object({ stage: z.enum(JOB_STAGES), fraction: z.number().check(z.minimum(0), z.maximum(1)) });

/** How a shared queue reads what it holds. */
export const jobPayloads = {
  data: (raw: unknown): JobData => jobDataSchema.parse(raw),
  result: (raw: unknown): JobResult => jobResultSchema.parse(raw),
};

export type JobRecord = QueuedJob<JobData, JobResult>;

/** How a runner records a failure in the queue, as JSON. */
interface FailureRecord {
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
export function jobOf(record: JobRecord): Job {
  const { data } = record;
  const { stage, fraction } = stageOf(record);
  return {
    id: record.id,
    status: STAGE_RULES[stage].status,
    stage,
    progress: progressAt(stage, fraction),
    params: data.params,
    input: data.input,
    texture: data.texture,
    output: record.state === 'completed' ? record.result?.output : undefined,
    ...(record.state === 'completed' && record.result?.copies ? { copies: { runner: record.result.copies.runner, until: new Date(record.result.copies.until) } } : {}),
    error: record.state === 'failed' ? failureOf(record.failure) : undefined,
    feedback: data.feedback,
    createdAt: new Date(data.createdAt),
    expiresAt: new Date(data.expiresAt),
  };
}

/** The job as it was last seen, once it has been deleted under whoever was waiting for it. */
export function cancelledJob(job: Job): Job {
  return { ...job, status: 'failed', stage: 'failed', progress: progressAt('failed'), error: errors.cancelled() };
}

function stageOf(record: JobRecord): { stage: JobStage; fraction: number } {
  switch (record.state) {
    case 'waiting':
      return { stage: 'queued', fraction: 0 };
    case 'active':
      // Taken by a runner that has not reported yet: it starts by decoding.
      return reportOf(record.progress) ?? { stage: 'decoding', fraction: 0 };
    case 'completed':
      return { stage: 'done', fraction: 0 };
    case 'failed':
      return { stage: 'failed', fraction: 0 };
  }
}

/** A runner's progress report, or null for anything that is not one. */
function reportOf(progress: unknown): { stage: JobStage; fraction: number } | null {
  const parsed = progressSchema.safeParse(progress);
  return parsed.success ? parsed.data : null;
}

/** A runner records a failure as JSON; anything else (a job stalled past its limit) is the server's fault. */
function failureOf(reason: string | undefined): AppError {
  try {
    const { status, code, message, headers } = JSON.parse(reason ?? '') as Partial<FailureRecord>;
    if (typeof status === 'number' && ERROR_CODES.includes(code!) && typeof message === 'string') return new AppError(code!, message, headers, status);
  } catch {
    // Not one of ours.
  }
  return errors.enrichFailed();
}
