import { setMaxListeners } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { attachmentDisposition, CONTENT_TYPES, downloadName, type OutputFormat, type ResultPart } from '../../contract/index.js';
import type { Job, JobService, StoredFile } from '../services/job-service.js';

/** Streams a finished job's result (or its added layer alone) as an attachment, with the headers the API promises. */
export async function sendResult(res: Response, jobs: JobService, job: Job, format: OutputFormat, part: ResultPart = 'mix'): Promise<void> {
  const file = await jobs.result(job.id, format, part);
  res.set({
    'Content-Type': CONTENT_TYPES[format],
    'X-Enrich-Style': job.params.style,
    'X-Enrich-Seed': String(job.params.seed),
    'X-Job-Id': job.id,
    'Content-Disposition': attachmentDisposition(downloadName(job.input.name, job.params.weights, format, part)),
    'Access-Control-Expose-Headers': 'X-Enrich-Style, X-Enrich-Seed, X-Job-Id, Content-Disposition',
  });
  await sendStored(res, file, { 'Cache-Control': 'private, max-age=3600' });
}

/** Streams a job's stored file, honouring `Range`. */
export async function sendStored(res: Response, file: StoredFile, headers: Record<string, string> = {}): Promise<void> {
  const object = await file.open(res.req.headers.range);
  try {
    res.status(object.contentRange ? 206 : 200).set({
      ...headers,
      'Accept-Ranges': 'bytes',
      'Content-Length': String(object.length),
      ...(object.contentRange ? { 'Content-Range': object.contentRange } : {}),
    });
    // A one-shot enrich's response already carries the upload's, the job's and the logger's close listeners; the
    // pipeline's own would otherwise trip Node's leak warning (ten per emitter) on every such answer.
    setMaxListeners(20, res);
    await pipeline(object.body, res);
  } catch (error) {
    // The file is closed whatever happened; a client that hangs up mid-download is its choice, not a server error.
    object.body.destroy();
    if (!res.headersSent) throw error;
  }
}
