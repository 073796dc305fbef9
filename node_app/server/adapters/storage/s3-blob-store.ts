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
  constructor(
    private readonly objects: ObjectStorage,
    private readonly files: FileStore,
  ) {}

  async localPath(file: JobFile): Promise<string> {
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

  /** Deletes a staging file, and the job's local folder once it holds nothing else. */
  private async discard(jobId: string, file: string): Promise<void> {
    await this.files.removeFile(file);
    await this.files.removeJobDirIfEmpty(jobId);
  }
}
