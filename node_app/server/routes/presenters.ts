import type { Job } from '../services/job-service.js';

const EXTENSIONS = { wav: 'wav', mp3: 'mp3', flac: 'flac', ogg: 'ogg' } as const;
export const CONTENT_TYPES = { wav: 'audio/wav', mp3: 'audio/mpeg', flac: 'audio/flac', ogg: 'audio/ogg' } as const;

export function presentJob(job: Job) {
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
export function presentRecipe(job: Job) {
  const { style, amount, seed, format, start, end } = job.params;
  return { app: 'noise-enricher', version: 1, style, amount, seed, format, start, end, input: job.input.name };
}

/** `<name>.<styles>.enriched.<ext>`, built only from safe characters whatever the upload was called. */
export function downloadName(job: Job, format: keyof typeof EXTENSIONS): string {
  const base =
    job.input.name
      .replace(/\.[^.]*$/, '')
      .replace(/[^A-Za-z0-9 ._-]+/g, '_')
      .replace(/\.{2,}/g, '.')
      .replace(/^[ ._]+|[ ._]+$/g, '')
      .slice(0, 80) || 'audio';
  const styles = Object.keys(job.params.weights).join('+');
  return `${base}.${styles}.enriched.${EXTENSIONS[format]}`;
}
