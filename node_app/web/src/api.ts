/** The one place the front end talks to the server; it follows the HTTP contract in node_app/contract and docs/api.md. */
import {
  API_PATHS,
  batchViewSchema,
  errorBodySchema,
  isFinished,
  jobPeaksSchema,
  jobViewSchema,
  limitsSchema,
  resultUrl as resultPath,
  styleListSchema,
  type BatchView,
  type EnrichParams,
  type ErrorCode,
  type JobPeaks,
  type JobView,
  type Limits,
  type OutputFormat,
  type ResultPart,
  type Rating,
  type StyleList,
} from '../../contract';

export { OUTPUT_FORMATS, STAGE_RULES, type JobPeaks, type Limits, type OutputFormat, type Style, type StyleKind, type StyleList } from '../../contract';

export type Job = JobView;
export type Batch = BatchView;

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

/** A contract schema, as the web app uses it: to read what the server answered, never to trust it unread. */
interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

/** The server's answer read with `schema`: its error as an ApiError, and anything the schema refuses as one too. */
function answerOf<T>(status: number, body: unknown, schema: Schema<T>): T {
  if (status < 200 || status >= 300) {
    const error = errorBodySchema.safeParse(body);
    throw error.success
      ? new ApiError(error.data.error.code, error.data.error.message, status)
      : new ApiError(`HTTP_${status}`, `The server answered ${status}. Try again in a moment.`, status);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError(`HTTP_${status}`, 'The server’s answer could not be read. Reload the page and try again.', status);
  return parsed.data;
}

async function send(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    throw new ApiError('NETWORK', 'The server could not be reached. Check your connection and try again.', 0);
  }
}

async function call<T>(url: string, schema: Schema<T>, init?: RequestInit): Promise<T> {
  const response = await send(url, init);
  return answerOf(response.status, await response.json().catch(() => null), schema);
}

/** An answer with no body (204) on success. */
const nothing: Schema<void> = { safeParse: () => ({ success: true, data: undefined }) };

export function fetchStyles(): Promise<StyleList> {
  return call(API_PATHS.styles, styleListSchema);
}

export function fetchLimits(): Promise<Limits> {
  return call(API_PATHS.limits, limitsSchema);
}

/** How an upload is followed and stopped. */
export interface UploadOptions {
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/** Uploads the audio and starts a job. */
export function createJob(
  audio: Blob,
  fileName: string,
  fields: EnrichFields,
  { texture, ...options }: UploadOptions & { texture?: { blob: Blob; name: string } } = {},
): Promise<Job> {
  const form = new FormData();
  form.append('audio', audio, fileName);
  // The style "own" weaves in this recording.
  if (texture) form.append('texture', texture.blob, texture.name);
  appendFields(form, fields);
  return postForm(API_PATHS.jobs, form, audio.size + (texture?.blob.size ?? 0), jobViewSchema, options);
}

/** Uploads an album's files, all in the field `audio`, and starts one job for each, with the same fields. */
export function createBatch(files: ReadonlyArray<{ blob: Blob; name: string }>, fields: EnrichFields, options: UploadOptions = {}): Promise<Batch> {
  const form = new FormData();
  for (const file of files) form.append('audio', file.blob, file.name);
  appendFields(form, fields);
  return postForm(API_PATHS.batches, form, files.reduce((sum, file) => sum + file.blob.size, 0), batchViewSchema, options);
}

function appendFields(form: FormData, fields: EnrichFields): void {
  if (fields.style !== undefined) form.append('style', fields.style);
  form.append('amount', String(fields.amount));
  form.append('format', fields.format);
  if (fields.seed !== undefined) form.append('seed', String(fields.seed));
  if (fields.start !== undefined) form.append('start', String(fields.start));
  if (fields.end !== undefined) form.append('end', String(fields.end));
  if (fields.keep !== undefined) form.append('keep', fields.keep);
  if (fields.loudness !== undefined) form.append('loudness', String(fields.loudness));
  if (fields.intensity !== undefined) form.append('intensity', fields.intensity);
}

/**
 * Sends a multipart form and reads the answer with `schema`. XMLHttpRequest rather than fetch: fetch cannot
 * report how much of the body has been sent. Aborting `signal` stops the upload and rejects with an AbortError.
 */
function postForm<T>(url: string, form: FormData, size: number, schema: Schema<T>, { onProgress, signal }: UploadOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort, { once: true });
    const done = () => signal?.removeEventListener('abort', abort);
    xhr.upload.addEventListener('progress', (event) => onProgress?.({ sent: event.loaded, total: event.lengthComputable ? event.total : size }));
    xhr.addEventListener('load', () => {
      done();
      try {
        resolve(answerOf(xhr.status, parseJson(xhr.responseText), schema));
      } catch (error) {
        reject(error);
      }
    });
    xhr.addEventListener('error', () => {
      done();
      reject(new ApiError('NETWORK', 'The upload failed. Check your connection and try again.', 0));
    });
    xhr.addEventListener('abort', () => {
      done();
      reject(new DOMException('The upload was cancelled.', 'AbortError'));
    });
    xhr.open('POST', url);
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

/** A job's peaks, from its `links.peaks`. */
export function fetchPeaks(link: string): Promise<JobPeaks> {
  return call(link, jobPeaksSchema);
}

export function fetchJob(id: string): Promise<Job> {
  return call(API_PATHS.job(encodeURIComponent(id)), jobViewSchema);
}

export function cancelJob(id: string): Promise<void> {
  return call(API_PATHS.job(encodeURIComponent(id)), nothing, { method: 'DELETE' });
}

function fetchBatch(id: string): Promise<Batch> {
  return call(API_PATHS.batch(encodeURIComponent(id)), batchViewSchema);
}

/** How often an album is looked at while any of its songs is still at work. */
const BATCH_POLL_MS = 1500;

/**
 * Follows an album by polling it (an album has no event stream) until every song is finished. A 404 is final and
 * reported once; anything else (a network blip) is tried again, after twice the wait. The same shape as
 * `watchJob`: it returns the function that stops it.
 */
export function watchBatch(id: string, onUpdate: (batch: Batch) => void, onGone: (error: ApiError) => void): () => void {
  let current = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const look = () =>
    fetchBatch(id).then(
      (found) => {
        if (!current) return;
        onUpdate(found);
        if (!isFinished(found.status)) timer = setTimeout(look, BATCH_POLL_MS);
      },
      (error: unknown) => {
        if (!current) return;
        if (error instanceof ApiError && error.status === 404) onGone(error);
        else timer = setTimeout(look, BATCH_POLL_MS * 2);
      },
    );
  void look();
  return () => {
    current = false;
    clearTimeout(timer);
  };
}

export function cancelBatch(id: string): Promise<void> {
  return call(API_PATHS.batch(encodeURIComponent(id)), nothing, { method: 'DELETE' });
}

export function sendFeedback(id: string, rating: Rating): Promise<Job> {
  return call(API_PATHS.feedback(encodeURIComponent(id)), jobViewSchema, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ rating }),
  });
}

export const resultUrl = (job: Job, format: OutputFormat, part: ResultPart = 'mix'): string => resultPath(job.id, format, part);
/** What the player streams: the result as mp3, encoded while the job ran. */
export const listeningUrl = (job: Job): string => job.links.listening;
/** What the result is compared with: the part of the input that was enriched, as mp3, on the same time line. */
export const originalUrl = (job: Job): string => job.links.original;
export const recipeUrl = (job: Job): string => job.links.recipe;
export const shareUrl = (job: Job): string => new URL(job.links.share, window.location.origin).href;

/**
 * Follows a job's Server-Sent Events until it is done or failed. EventSource reconnects by itself after a
 * dropped connection; a job that has gone (expired, deleted) ends the stream with an error we report once.
 */
export function watchJob(id: string, onUpdate: (job: Job) => void, onGone: (error: ApiError) => void): () => void {
  const source = new EventSource(API_PATHS.events(encodeURIComponent(id)));
  let finished = false;
  source.addEventListener('job', (event) => {
    const parsed = jobViewSchema.safeParse(parseJson((event as MessageEvent<string>).data));
    // An event that is not a job is not acted on; the next one, or the reconnect's first, will be.
    if (!parsed.success) return;
    const job = parsed.data;
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
