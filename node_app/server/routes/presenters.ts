import type { JobView, Recipe } from '../../contract/index.js';
import type { Job } from '../services/job-record.js';

export function presentJob(job: Job): JobView {
  const base = `/api/jobs/${job.id}`;
  return {
    id: job.id,
    status: job.status,
    stage: job.stage,
    progress: Math.round(job.progress * 1000) / 1000,
    params: job.params,
    input: job.input,
    output: job.output,
    error: job.error ? { code: job.error.code, message: job.error.message } : undefined,
    feedback: job.feedback,
    createdAt: job.createdAt.toISOString(),
    expiresAt: job.expiresAt.toISOString(),
    links: {
      self: base,
      events: `${base}/events`,
      result: `${base}/result?format=${job.params.format}`,
      input: `${base}/input`,
      peaks: `${base}/peaks`,
      recipe: `${base}/recipe`,
      share: `/r/${job.id}`,
    },
  };
}

/** What it takes to repeat the job: POST these fields with the same audio. */
export function presentRecipe(job: Job): Recipe {
  const { style, amount, seed, format, start, end } = job.params;
  return { app: 'noise-enricher', version: 1, style, amount, seed, format, start, end, input: job.input.name };
}
