import { randomBytes } from 'node:crypto';
import { LISTENING_FORMAT, type OutputFormat } from '../../../contract/index.js';

/**
 * Where every file of a job is kept: the one place their names are written. A job's files live together under
 * `jobs/<id>/` — in the data folder on local storage, under that key prefix in a bucket — so one listing finds
 * them and one deletion removes them all. Names are built only from ids the server made, never from anything
 * a client sent.
 */
export interface JobFile {
  readonly jobId: string;
  readonly name: string;
}

export const JOBS_FOLDER = 'jobs';

export const jobFiles = {
  /** The upload, as it was sent. */
  input: (jobId: string): JobFile => fileOf(jobId, 'input'),
  /** The user's own recording, for the style "own": a second upload, kept as it was sent. */
  texture: (jobId: string): JobFile => fileOf(jobId, 'texture'),
  /** The result in one format; `wav` is the master every other format is encoded from. */
  result: (jobId: string, format: OutputFormat): JobFile => fileOf(jobId, `result.${format}`),
  /**
   * The part of the input that was enriched (the section, or all of it), decoded and encoded to mp3 during the
   * job: what the result is compared with, on the same time line, without sending the whole upload.
   */
  original: (jobId: string): JobFile => fileOf(jobId, `original.${LISTENING_FORMAT}`),
  /** What the style added, alone, in one format (`wav` first, the others encoded from it); made when first asked for. */
  layer: (jobId: string, format: OutputFormat): JobFile => fileOf(jobId, `layer.${format}`),
  /**
   * An album's record (`POST /api/batches`): its jobs and their names, kept with its first job, whose id is the
   * album's. It is read by every process and goes when that job is deleted or expires.
   */
  batch: (jobId: string): JobFile => fileOf(jobId, 'batch.json'),
  /** The result levelled with its album's one gain (`wav` first, the others encoded from it); made for the album's zip. */
  album: (jobId: string, format: OutputFormat): JobFile => fileOf(jobId, `album.${format}`),
  /** The waveform peaks of input and result, written with the result. */
  peaks: (jobId: string): JobFile => fileOf(jobId, 'peaks.json'),
};

/** The file's key in a bucket, and its path below the data folder. */
export function keyOf(file: JobFile): string {
  return `${jobPrefix(file.jobId)}${file.name}`;
}

export function jobPrefix(jobId: string): string {
  return `${JOBS_FOLDER}/${jobId}/`;
}

/** The job a key belongs to, or null for a key outside the jobs' layout. */
export function jobIdOfKey(key: string): string | null {
  const [folder, id] = key.split('/');
  return folder === JOBS_FOLDER && id !== undefined && isJobId(id) ? id : null;
}

/** 128 random bits, hex: unguessable, and safe in a path and a URL. */
export function newJobId(): string {
  return randomBytes(16).toString('hex');
}

export function isJobId(value: string): boolean {
  return /^[0-9a-f]{32}$/.test(value);
}

function fileOf(jobId: string, name: string): JobFile {
  if (!isJobId(jobId)) throw new Error(`not a job id: ${jobId}`);
  return { jobId, name };
}
