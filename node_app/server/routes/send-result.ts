import type { Response } from 'express';
import { CONTENT_TYPES, downloadName, errors, type OutputFormat } from '../../contract/index.js';
import type { Job, JobService } from '../services/job-service.js';

/** Streams a finished job's result as an attachment, with the headers the API promises. */
export async function sendResult(res: Response, jobs: JobService, job: Job, format: OutputFormat): Promise<void> {
  const file = await jobs.resultPath(job.id, format);
  res.set({
    'Content-Type': CONTENT_TYPES[format],
    'X-Enrich-Style': job.params.style,
    'X-Enrich-Seed': String(job.params.seed),
    'X-Job-Id': job.id,
    // Quoted always, as the API promises; the name is built from safe characters only.
    'Content-Disposition': `attachment; filename="${downloadName(job.input.name, job.params.weights, format)}"`,
    'Access-Control-Expose-Headers': 'X-Enrich-Style, X-Enrich-Seed, X-Job-Id, Content-Disposition',
  });
  await new Promise<void>((resolve, reject) => {
    // A file gone between the lookup and the send means the job expired or was deleted meanwhile.
    res.sendFile(file, { dotfiles: 'deny', headers: { 'Cache-Control': 'private, max-age=3600' } }, (error) =>
      error && !res.headersSent ? reject((error as NodeJS.ErrnoException).code === 'ENOENT' ? errors.jobNotFound() : error) : resolve(),
    );
  });
}
