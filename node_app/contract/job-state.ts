/**
 * A job's state machine, written once for the server and the web app. A job moves through the stages in the
 * order they are listed, from `queued` to `done`, or to `failed` from any stage before that; a job cut short
 * by a stopping worker goes back to `queued`. Each stage belongs to one status, fills one band of the progress
 * bar and has the words a person reads while it lasts. Everything that describes a stage is keyed by it, so a
 * new stage that something forgot does not compile.
 */
export const JOB_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const JOB_STAGES = ['queued', 'decoding', 'enriching', 'encoding', 'done', 'failed'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

export interface StageRule {
  status: JobStatus;
  /** The progress bar's band over the stage: where it starts and where it would end. */
  progress: readonly [from: number, to: number];
  /** What the job is doing, for a person waiting for it. */
  label: string;
}

export const STAGE_RULES = {
  queued: { status: 'queued', progress: [0, 0], label: 'Waiting for a free slot…' },
  // The decoder streams into the model, so reading the audio is over in a moment and the bar follows the
  // music enriched: at a quarter of the song it stands at a quarter, as the waveform drawn beside it does.
  decoding: { status: 'running', progress: [0, 0.01], label: 'Reading your audio…' },
  enriching: { status: 'running', progress: [0.01, 0.99], label: 'The network is adding the style…' },
  encoding: { status: 'running', progress: [0.99, 1], label: 'Writing the result…' },
  done: { status: 'done', progress: [1, 1], label: 'Done.' },
  failed: { status: 'failed', progress: [0, 0], label: 'The job failed.' },
} as const satisfies Record<JobStage, StageRule>;

/** A finished job changes no more: it has its result, or the reason it has none. */
export function isFinished(status: JobStatus): boolean {
  return status === 'done' || status === 'failed';
}

/** Progress over the whole job, `fraction` (0…1) of the way through `stage`. */
export function progressAt(stage: JobStage, fraction = 0): number {
  const [from, to] = STAGE_RULES[stage].progress;
  return from + (to - from) * Math.min(1, Math.max(0, fraction));
}
