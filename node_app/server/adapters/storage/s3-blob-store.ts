import { randomBytes } from 'node:crypto';
import { RangeNotSatisfiable, type BlobRead, type BlobStore, type LocalCopy } from './blob-store.js';
import type { FileStore } from './file-store.js';
import { jobIdOfKey, jobPrefix, JOBS_FOLDER, keyOf, type JobFile } from './job-files.js';
import type { ObjectStorage } from './object-store.js';

/**
 * `FILE_STORAGE=s3`: a job's files in a bucket, under the same names as on local storage, where every web and
 * worker process finds them. This machine's job folder holds only staging copies: a file being written until it
 * is uploaded, and a file downloaded for ffmpeg until it is released.
 */
export class S3BlobStore implements BlobStore {
  /**
   * Staging files handed out and not yet discarded, by job. A job's folder goes with its last one: two operations
   * on one job (a download's encode beside a listening copy) would otherwise race, one removing the folder it
   * found empty between the other's mkdir and its first write (ENOENT). `adopt` and `abandon` count one down each.
   */
  private readonly staging = new Map<string, number>();

  constructor(
    private readonly objects: ObjectStorage,
    private readonly files: FileStore,
  ) {}

  async localPath(file: JobFile): Promise<string> {
    this.staging.set(file.jobId, (this.staging.get(file.jobId) ?? 0) + 1);
    await this.files.createJobDir(file.jobId);
    return this.files.jobFile(file.jobId, file.name);
  }

  async adopt(file: JobFile, from: string, contentType?: string): Promise<void> {
    try {
      await this.objects.putFile(keyOf(file), from, contentType);
    } finally {
      await this.discard(file.jobId, from);
    }
  }

  abandon(file: JobFile, path: string): Promise<void> {
    return this.discard(file.jobId, path);
  }

  async stageLocal(file: JobFile): Promise<LocalCopy | null> {
    // A copy of its own for each caller: two encodes of one job read the master at once, and release apart.
    const copy = `${await this.localPath(file)}.${randomBytes(4).toString('hex')}`;
    const found = await this.objects.getFile(keyOf(file), copy).catch(async (error: unknown) => {
      await this.discard(file.jobId, copy);
      throw error;
    });
    if (!found) {
      await this.discard(file.jobId, copy);
      return null;
    }
    return { path: copy, release: () => this.discard(file.jobId, copy) };
  }

  openRange(file: JobFile, range?: string): Promise<BlobRead | null> {
    return this.objects.get(keyOf(file), range).catch((error: unknown) => {
      if ((error as { name?: unknown }).name === 'InvalidRange') throw new RangeNotSatisfiable();
      throw error;
    });
  }

  exists(file: JobFile): Promise<boolean> {
    return this.objects.exists(keyOf(file));
  }

  async removeJob(jobId: string): Promise<void> {
    await this.objects.removePrefix(jobPrefix(jobId));
    this.staging.delete(jobId);
    await this.files.removeJob(jobId);
  }

  async *list(): AsyncGenerator<{ jobId: string; lastModified: Date }> {
    for await (const object of this.objects.list(`${JOBS_FOLDER}/`)) {
      const jobId = jobIdOfKey(object.key);
      if (jobId) yield { jobId, lastModified: object.lastModified };
    }
  }

  check(): Promise<void> {
    return this.objects.check();
  }

  close(): void {
    this.objects.close();
  }

  /** Deletes a staging file, and the job's local folder once no other staging file of the job is in use. */
  private async discard(jobId: string, file: string): Promise<void> {
    await this.files.removeFile(file);
    const left = (this.staging.get(jobId) ?? 1) - 1;
    if (left > 0) {
      this.staging.set(jobId, left);
      return;
    }
    this.staging.delete(jobId);
    await this.files.removeJobDirIfEmpty(jobId);
  }
}
