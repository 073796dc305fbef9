import { API_PATHS, LISTENING_FORMAT, PAGE_PATHS, resultUrl, thousandths, type BatchView, type JobView, type Recipe } from '../../contract/index.js';
import type { Batch } from '../services/batch-service.js';
import type { Job } from '../services/job-record.js';

export function presentJob(job: Job): JobView {
  return {
    id: job.id,
    status: job.status,
    stage: job.stage,
    progress: thousandths(job.progress),
    params: job.params,
    input: job.input,
    texture: job.texture,
    output: job.output,
    error: job.error ? { code: job.error.code, message: job.error.message } : undefined,
    ahead: job.ahead,
    notice: job.notice,
    feedback: job.feedback,
    createdAt: job.createdAt.toISOString(),
    expiresAt: job.expiresAt.toISOString(),
    links: {
      self: API_PATHS.job(job.id),
      events: API_PATHS.events(job.id),
      result: resultUrl(job.id, job.params.format),
      input: API_PATHS.input(job.id),
      original: API_PATHS.original(job.id),
      listening: resultUrl(job.id, LISTENING_FORMAT),
      peaks: API_PATHS.peaks(job.id),
      recipe: API_PATHS.recipe(job.id),
      share: PAGE_PATHS.job(job.id),
    },
  };
}

/** What it takes to repeat the job: POST these fields with the same audio. */
export function presentRecipe(job: Job): Recipe {
  const { style, amount, seed, format, start, end, keep, loudness, intensity } = job.params;
  const texture = job.texture ? { texture: job.texture.name, textureSha256: job.texture.sha256 } : {};
  return { app: 'noise-enricher', version: 1, style, amount, seed, format, start, end, keep, loudness, intensity, input: job.input.name, ...texture };
}

/** An album: every song's job with the name of its file, and the album's status and progress as a whole. */
export function presentBatch(batch: Batch): BatchView {
  return {
    id: batch.id,
    status: batch.status,
    progress: thousandths(batch.progress),
    params: batch.params,
    jobs: batch.jobs.map(({ name, job }) => ({
      id: job.id,
      name,
      status: job.status,
      stage: job.stage,
      progress: thousandths(job.progress),
      error: job.error ? { code: job.error.code, message: job.error.message } : undefined,
      links: { self: API_PATHS.job(job.id), result: resultUrl(job.id, job.params.format) },
    })),
    loudness: batch.loudness,
    createdAt: batch.createdAt.toISOString(),
    expiresAt: batch.expiresAt.toISOString(),
    links: { self: API_PATHS.batch(batch.id), download: API_PATHS.batchDownload(batch.id) },
  };
}
