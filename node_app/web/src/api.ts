/** The one place the front end talks to the server; it follows docs/api.md. */
export type StyleKind = 'genre' | 'nature' | 'instrument' | 'texture';

export interface Style {
  id: string;
  label: string;
  kind: StyleKind;
  description: string;
}

export interface Job {
  id: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  stage: string;
  progress: number;
  params: { style: string; amount: number; seed: number; format: string };
  error?: { code: string; message: string };
  links: { result: string; events: string; share: string };
}

export interface EnrichFields {
  style: string;
  amount: number;
  seed?: number;
  format?: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function readJson<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!response.ok) {
    throw new ApiError(body?.error?.code ?? 'HTTP_' + response.status, body?.error?.message ?? `The server answered ${response.status}.`);
  }
  return body as T;
}

export async function fetchStyles(): Promise<{ styles: Style[]; defaultStyle: string }> {
  return readJson(await fetch('/api/styles'));
}

export async function createJob(audio: Blob, fileName: string, fields: EnrichFields): Promise<Job> {
  const form = new FormData();
  form.append('audio', audio, fileName);
  form.append('style', fields.style);
  form.append('amount', String(fields.amount));
  if (fields.seed !== undefined) form.append('seed', String(fields.seed));
  if (fields.format) form.append('format', fields.format);
  return readJson(await fetch('/api/jobs', { method: 'POST', body: form }));
}

/** Follows a job's Server-Sent Events until it is done or failed. */
export function watchJob(id: string, onUpdate: (job: Job) => void): () => void {
  const source = new EventSource(`/api/jobs/${id}/events`);
  source.addEventListener('job', (event) => {
    const job = JSON.parse((event as MessageEvent<string>).data) as Job;
    onUpdate(job);
    if (job.status === 'done' || job.status === 'failed') source.close();
  });
  return () => source.close();
}
