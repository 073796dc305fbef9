/** The one place the front end talks to the server; it follows the HTTP contract in node_app/contract and docs/api.md. */
import { isFinished, type EnrichParams, type ErrorBody, type ErrorCode, type JobPeaks, type JobView, type Limits, type OutputFormat, type Rating, type StyleList } from '../../contract';

export { OUTPUT_FORMATS, STAGE_RULES, type JobPeaks, type Limits, type OutputFormat, type Style, type StyleKind, type StyleList } from '../../contract';

export type Job = JobView;

export interface UploadProgress {
  sent: number;
  total: number;
}

/** What a job is asked to do; the same fields as `POST /api/jobs`. */
export type EnrichFields = EnrichParams;

/** Codes the browser itself stands in with: no connection, or an answer that was not the API's JSON. */
export type ClientErrorCode = 'NETWORK' | `HTTP_${number}`;

/** An error the API answered with, or one standing in for a server that could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError('NETWORK', 'The server could not be reached. Check your connection and try again.', 0);
  }
  if (response.status === 204) return undefined as T;
  const body = (await response.json().catch(() => null)) as Partial<ErrorBody> | null;
  if (!response.ok) {
    throw new ApiError(
      body?.error?.code ?? `HTTP_${response.status}`,
      body?.error?.message ?? `The server answered ${response.status}. Try again in a moment.`,
      response.status,
    );
  }
  return body as T;
}

export function fetchStyles(): Promise<StyleList> {
  return call('/api/styles');
}

export function fetchLimits(): Promise<Limits> {
  return call('/api/limits');
}

/**
 * Uploads the audio and starts a job. XMLHttpRequest rather than fetch: fetch cannot report how much of the
 * body has been sent. Aborting `signal` stops the upload and rejects with an AbortError.
 */
export function createJob(
  audio: Blob,
  fileName: string,
  fields: EnrichFields,
  { onProgress, signal }: { onProgress?: (progress: UploadProgress) => void; signal?: AbortSignal } = {},
): Promise<Job> {
  const form = new FormData();
  form.append('audio', audio, fileName);
  if (fields.style !== undefined) form.append('style', fields.style);
  form.append('amount', String(fields.amount));
  form.append('format', fields.format);
  if (fields.seed !== undefined) form.append('seed', String(fields.seed));
  if (fields.start !== undefined) form.append('start', String(fields.start));
  if (fields.end !== undefined) form.append('end', String(fields.end));
  return new Promise<Job>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort, { once: true });
    const done = () => signal?.removeEventListener('abort', abort);
    xhr.upload.addEventListener('progress', (event) => onProgress?.({ sent: event.loaded, total: event.lengthComputable ? event.total : audio.size }));
    xhr.addEventListener('load', () => {
      done();
      const body = parseJson(xhr.responseText) as Partial<ErrorBody> | null;
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body as Job);
      else
        reject(
          new ApiError(
            body?.error?.code ?? `HTTP_${xhr.status}`,
            body?.error?.message ?? `The server answered ${xhr.status}. Try again in a moment.`,
            xhr.status,
          ),
        );
    });
    xhr.addEventListener('error', () => {
      done();
      reject(new ApiError('NETWORK', 'The upload failed. Check your connection and try again.', 0));
    });
    xhr.addEventListener('abort', () => {
      done();
      reject(new DOMException('The upload was cancelled.', 'AbortError'));
    });
    xhr.open('POST', '/api/jobs');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.send(form);
    if (signal?.aborted) xhr.abort();
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function fetchPeaks(job: Job): Promise<JobPeaks> {
  return call(job.links.peaks);
}

export function fetchJob(id: string): Promise<Job> {
  return call(`/api/jobs/${encodeURIComponent(id)}`);
}

export function cancelJob(id: string): Promise<void> {
  return call(`/api/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

export function sendFeedback(id: string, rating: Rating): Promise<Job> {
  return call(`/api/jobs/${encodeURIComponent(id)}/feedback`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ rating }),
  });
}

export const resultUrl = (job: Job, format: OutputFormat): string => `/api/jobs/${job.id}/result?format=${format}`;
/** What the player streams: mp3 plays in every browser at a fraction of the WAV master's size. */
export const listeningUrl = (job: Job): string => resultUrl(job, 'mp3');
export const inputUrl = (job: Job): string => job.links.input;
export const recipeUrl = (job: Job): string => job.links.recipe;
export const shareUrl = (job: Job): string => new URL(job.links.share, window.location.origin).href;

/**
 * Follows a job's Server-Sent Events until it is done or failed. EventSource reconnects by itself after a
 * dropped connection; a job that has gone (expired, deleted) ends the stream with an error we report once.
 */
export function watchJob(id: string, onUpdate: (job: Job) => void, onGone: (error: ApiError) => void): () => void {
  const source = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
  let finished = false;
  source.addEventListener('job', (event) => {
    const job = JSON.parse((event as MessageEvent<string>).data) as Job;
    onUpdate(job);
    if (isFinished(job.status)) {
      finished = true;
      source.close();
    }
  });
  source.addEventListener('error', () => {
    if (finished) return;
    // A 404 closes the stream for good; a network blip leaves it CONNECTING, and it retries.
    if (source.readyState === EventSource.CLOSED) {
      fetchJob(id).then(onUpdate, (error: unknown) => {
        if (error instanceof ApiError) onGone(error);
      });
    }
  });
  return () => source.close();
}
