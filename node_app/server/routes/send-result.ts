import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { attachmentDisposition, CONTENT_TYPES, downloadName, errors, type OutputFormat } from '../../contract/index.js';
import type { FileLocation, JobQueue } from '../services/job-queue.js';
import type { Job } from '../services/job-service.js';

/** Streams a finished job's result as an attachment, with the headers the API promises. */
export async function sendResult(res: Response, jobs: JobQueue, job: Job, format: OutputFormat): Promise<void> {
  const file = await jobs.resultPath(job.id, format);
  res.set({
    'Content-Type': CONTENT_TYPES[format],
    'X-Enrich-Style': job.params.style,
    'X-Enrich-Seed': String(job.params.seed),
    'X-Job-Id': job.id,
    'Content-Disposition': attachmentDisposition(downloadName(job.input.name, job.params.weights, format)),
    'Access-Control-Expose-Headers': 'X-Enrich-Style, X-Enrich-Seed, X-Job-Id, Content-Disposition',
  });
  await sendStored(res, file, { 'Cache-Control': 'private, max-age=3600' });
}

/** Sends a job's file from this machine's disk, or streams it from object storage, honouring `Range`. */
export async function sendStored(res: Response, file: FileLocation, headers: Record<string, string> = {}): Promise<void> {
  if (typeof file === 'string') {
    await new Promise<void>((resolve, reject) => {
      // A file gone between the lookup and the send means the job expired or was deleted meanwhile.
      res.sendFile(file, { dotfiles: 'deny', headers }, (error) =>
        error && !res.headersSent ? reject((error as NodeJS.ErrnoException).code === 'ENOENT' ? errors.jobNotFound() : error) : resolve(),
      );
    });
    return;
  }
  const object = await file.open(res.req.headers.range);
  res.status(object.contentRange ? 206 : 200).set({
    ...headers,
    'Accept-Ranges': 'bytes',
    'Content-Length': String(object.length),
    ...(object.contentRange ? { 'Content-Range': object.contentRange } : {}),
  });
  // A client that hangs up mid-download ends the pipeline early; that is its choice, not a server error.
  await pipeline(object.body, res).catch((error: unknown) => {
    if (!res.headersSent) throw error;
    object.body.destroy();
  });
}
