import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, rmdir, stat, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isJobId, JOBS_FOLDER } from './job-files.js';

/**
 * This machine's data folder: multer's temporary files under `<dataDir>/uploads`, and one folder per job under
 * `<dataDir>/jobs`, which holds the job's files on local storage and their staging copies otherwise. Paths are
 * built only from ids the server made, never from anything a client sent.
 */
export class FileStore {
  readonly uploadsDir: string;
  private readonly jobsDir: string;

  constructor(readonly dataDir: string) {
    this.uploadsDir = path.join(dataDir, 'uploads');
    this.jobsDir = path.join(dataDir, JOBS_FOLDER);
  }

  /** Starts empty: the disk is ephemeral on Heroku, and nothing left by an earlier process could be served again. */
  async reset(): Promise<void> {
    await rm(this.uploadsDir, { recursive: true, force: true });
    await rm(this.jobsDir, { recursive: true, force: true });
    await this.ensureFolders();
  }

  async createJobDir(id: string): Promise<string> {
    const dir = this.jobDir(id);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  jobFile(id: string, name: string): string {
    return path.join(this.jobDir(id), name);
  }

  async removeJob(id: string): Promise<void> {
    await rm(this.jobDir(id), { recursive: true, force: true });
  }

  async removeJobDirIfEmpty(id: string): Promise<void> {
    await rmdir(this.jobDir(id)).catch(() => undefined);
  }

  /** Every file in the jobs' folders, with its job and when it was last written. */
  async *jobFiles(): AsyncGenerator<{ jobId: string; path: string; lastModified: Date }> {
    const ids = await readdir(this.jobsDir).catch(() => []);
    for (const jobId of ids.filter(isJobId)) {
      const names = await readdir(this.jobDir(jobId)).catch(() => []);
      for (const name of names) {
        const file = path.join(this.jobDir(jobId), name);
        const stats = await stat(file).catch(() => null);
        if (stats?.isFile()) yield { jobId, path: file, lastModified: stats.mtime };
      }
    }
  }

  /** Bytes a new file may still take on the data dir's file system. */
  async freeBytes(): Promise<number> {
    const stats = await statfs(this.dataDir);
    return stats.bavail * stats.bsize;
  }

  /**
   * Makes the uploads and jobs folders again if they are gone: a tmp cleaner may delete the data dir under a
   * running server, and each upload and readiness check then puts it back rather than failing until a restart.
   */
  async ensureFolders(): Promise<void> {
    await mkdir(this.uploadsDir, { recursive: true });
    await mkdir(this.jobsDir, { recursive: true });
  }

  /** Writes and deletes a small file where jobs are written, after making the folders again if they are gone; throws if that cannot be done. */
  async checkWritable(): Promise<void> {
    await this.ensureFolders();
    const probe = path.join(this.jobsDir, `.writable-${randomBytes(4).toString('hex')}`);
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
  }

  async removeFile(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  private jobDir(id: string): string {
    if (!isJobId(id)) throw new Error(`not a job id: ${id}`);
    return path.join(this.jobsDir, id);
  }
}
