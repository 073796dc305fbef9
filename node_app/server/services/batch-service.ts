import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { z } from 'zod/mini';
import { AppError, batchResultNames, ErrorCode, errors, isFinished, randomSeed, type EnrichParams, type JobParams, type JobStatus, type Style } from '../../contract/index.js';
import type { ZipEntry } from '../adapters/archive/zip-writer.js';
import type { BlobStore } from '../adapters/storage/blob-store.js';
import type { FileStore } from '../adapters/storage/file-store.js';
import { isJobId, jobFiles } from '../adapters/storage/job-files.js';
import { creditLines } from './credits.js';
import { cancelledJob, type Job, type Upload } from './job-record.js';
import type { JobService } from './job-service.js';

/**
 * An album's record: its jobs, in the order their files were sent, with those files' names. Stored as
 * `batch.json` with the first job (jobFiles.batch), whose id is the album's, so every process reads it from the
 * job storage and the sweeper, which deletes what belongs to no job, keeps it as long as that job lives.
 */
const batchRecordSchema = z.object({
  jobs: z.array(z.object({ id: z.string().check(z.regex(/^[0-9a-f]{32}$/)), name: z.string() })).check(z.minLength(1)),
  createdAt: z.iso.datetime(),
});
type BatchRecord = z.infer<typeof batchRecordSchema>;

/** One song of an album: the job, as it is now, and the name of the file it enriches. */
export interface BatchJob {
  name: string;
  job: Job;
}

export interface Batch {
  id: string;
  status: JobStatus;
  progress: number;
  params: JobParams;
  jobs: BatchJob[];
  createdAt: Date;
  expiresAt: Date;
}

/** What the album's zip holds, in order, and what it is called. */
export interface BatchDownload {
  fileName: string;
  entries: ZipEntry[];
}

export interface BatchParts {
  jobs: JobService;
  blobs: BlobStore;
  files: FileStore;
  styles: () => readonly Style[];
}

/**
 * Album mode: several songs enriched the same way, as one job each through the one job lifecycle (so in both
 * modes), followed and downloaded together, deleted together. The album holds no state of its own beyond its
 * record, which lives in the job storage beside its first job.
 */
export class BatchService {
  constructor(private readonly parts: BatchParts) {}

  /**
   * Starts one job per upload, all with the same parameters and one seed (drawn once when none was given), so
   * the album is one recipe. Takes ownership of the uploads; when any song is refused (a full queue, a full
   * disk), the songs already accepted are deleted again.
   */
  async submit(uploads: readonly Upload[], params: EnrichParams): Promise<Batch> {
    const { jobs, files } = this.parts;
    const albumParams: EnrichParams = { ...params, seed: params.seed ?? randomSeed() };
    const accepted: Job[] = [];
    try {
      for (const [index, upload] of uploads.entries()) accepted.push(await jobs.submit(upload, albumParams, undefined, { inBatch: index > 0 }));
      const [first] = accepted;
      const record: BatchRecord = { jobs: accepted.map((job) => ({ id: job.id, name: job.input.name })), createdAt: first.createdAt.toISOString() };
      await this.writeRecord(first.id, record);
      return this.batchOf(first.id, record, accepted);
    } catch (error) {
      await Promise.all(accepted.map((job) => jobs.remove(job.id).catch(() => undefined)));
      throw error;
    } finally {
      await Promise.all(uploads.map((upload) => files.removeFile(upload.path).catch(() => undefined)));
    }
  }

  async get(id: string): Promise<Batch> {
    const record = await this.record(id);
    const found = await Promise.all(record.jobs.map(({ id: jobId }) => this.job(jobId)));
    const [first] = found;
    // The album lives as long as its first job, which keeps its record.
    if (!first) throw errors.batchNotFound();
    return this.batchOf(id, record, found.map((job, index) => job ?? cancelledJob({ ...first, id: record.jobs[index].id, input: { name: record.jobs[index].name } })));
  }

  /** Cancels every song of the album and deletes their files, the record's job last. */
  async remove(id: string): Promise<void> {
    const record = await this.record(id);
    const [, ...rest] = record.jobs;
    await Promise.all(rest.map((job) => this.parts.jobs.remove(job.id).catch((error: unknown) => ignoreGone(error))));
    await this.parts.jobs.remove(id).catch((error: unknown) => {
      if (isGone(error)) throw errors.batchNotFound();
      throw error;
    });
  }

  /**
   * The album as a zip, once every song has finished: recipe.json and CREDITS.txt first (small, so the download
   * starts at once), then each result in the album's format, named after its input. A result is opened (and
   * encoded, for a format not yet made) only when its turn comes. Songs that failed are listed, not included.
   */
  async download(id: string): Promise<BatchDownload> {
    const batch = await this.get(id);
    const running = batch.jobs.filter(({ job }) => !isFinished(job.status)).length;
    if (running > 0) throw errors.batchNotDone(running);
    if (batch.status === 'failed') throw errors.jobFailed();
    const { format, weights } = batch.params;
    const names = batchResultNames(batch.jobs.map(({ name }) => name), weights, format);
    const modified = new Date();
    const songs = batch.jobs.map(({ name, job }, index) => ({ name, job, file: names[index] }));
    const recipe = JSON.stringify(batchRecipe(batch, songs), null, 2);
    const credits = creditsText(batch, songs, this.parts.styles());
    const entries: ZipEntry[] = [
      { name: 'recipe.json', modified, open: async () => Readable.from([Buffer.from(`${recipe}\n`)]) },
      { name: 'CREDITS.txt', modified, open: async () => Readable.from([Buffer.from(credits)]) },
      ...songs
        .filter(({ job }) => job.status === 'done')
        .map(({ job, file }) => ({
          name: file,
          modified,
          open: async () => (await (await this.parts.jobs.result(job.id, format)).open()).body,
        })),
    ];
    return { fileName: `album.${Object.keys(weights).join('+')}.enriched.zip`, entries };
  }

  private batchOf(id: string, record: BatchRecord, found: readonly Job[]): Batch {
    const [first] = found;
    const statuses = found.map((job) => job.status);
    const status: JobStatus = statuses.every(isFinished)
      ? statuses.includes('done')
        ? 'done'
        : 'failed'
      : statuses.every((s) => s === 'queued')
        ? 'queued'
        : 'running';
    return {
      id,
      status,
      progress: found.reduce((sum, job) => sum + job.progress, 0) / found.length,
      params: first.params,
      jobs: found.map((job, index) => ({ name: record.jobs[index].name, job })),
      createdAt: new Date(record.createdAt),
      expiresAt: first.expiresAt,
    };
  }

  /** The album's record, or 404 for an id that is no album (a single job's id included). */
  private async record(id: string): Promise<BatchRecord> {
    if (!isJobId(id)) throw errors.batchNotFound();
    // An expired or deleted first job takes the album with it, even before the sweeper removes the record.
    if (!(await this.job(id))) throw errors.batchNotFound();
    const read = await this.parts.blobs.openRange(jobFiles.batch(id)).catch(() => {
      throw errors.storageUnavailable();
    });
    if (!read) throw errors.batchNotFound();
    return batchRecordSchema.parse(JSON.parse(await text(read.body)));
  }

  /** The job, or null when it is unknown, deleted or expired. */
  private async job(id: string): Promise<Job | null> {
    return this.parts.jobs.get(id).catch((error: unknown) => {
      if (isGone(error)) return null;
      throw error;
    });
  }

  private async writeRecord(id: string, record: BatchRecord): Promise<void> {
    const { blobs, files } = this.parts;
    const file = jobFiles.batch(id);
    const partial = `${await blobs.localPath(file)}.part`;
    try {
      await writeFile(partial, JSON.stringify(record));
      await blobs.adopt(file, partial, 'application/json');
    } catch (error) {
      await files.removeFile(partial).catch(() => undefined);
      throw error;
    }
  }
}

/** A song of the album, and what its result is called in the zip. */
interface Song {
  name: string;
  job: Job;
  file: string;
}

/** recipe.json: the album's parameters as one recipe (what the web app's "Use a recipe" reads), and each song. */
function batchRecipe(batch: Batch, songs: readonly Song[]) {
  const { style, amount, seed, format, start, end, keep, loudness, intensity } = batch.params;
  return {
    app: 'noise-enricher',
    version: 1,
    album: batch.id,
    style,
    amount,
    seed,
    format,
    start,
    end,
    keep,
    loudness,
    intensity,
    songs: songs.map(({ name, job, file }) => ({
      input: name,
      job: job.id,
      ...(job.status === 'done' ? { file } : { error: { code: job.error?.code ?? ErrorCode.ENRICH_FAILED, message: job.error?.message ?? '' } }),
    })),
  };
}

/**
 * CREDITS.txt: how the album was made and whose recordings it plays under which licence (the same for every
 * song: they share their parameters), then each song's file and the file it was made from.
 */
function creditsText(batch: Batch, songs: readonly Song[], styles: readonly Style[]): string {
  const lines = [
    `An album of ${songs.length} songs enriched by The Noise Enricher.`,
    '',
    ...creditLines({ params: batch.params, input: { name: 'album' } }, styles),
    '',
    'Songs:',
    ...songs.map(({ name, job, file }) => (job.status === 'done' ? `- ${file} (from "${name}")` : `- "${name}": not enriched (${job.error?.message ?? 'failed'})`)),
  ];
  return `${lines.join('\n')}\n`;
}

function isGone(error: unknown): boolean {
  return error instanceof AppError && error.code === ErrorCode.JOB_NOT_FOUND;
}

function ignoreGone(error: unknown): void {
  if (!isGone(error)) throw error;
}
