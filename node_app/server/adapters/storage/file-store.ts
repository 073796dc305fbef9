import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** 128 random bits, hex: unguessable, and safe in a path and a URL. */
export function newJobId(): string {
  return randomBytes(16).toString('hex');
}

export function isJobId(value: string): boolean {
  return /^[0-9a-f]{32}$/.test(value);
}

/**
 * Where uploads and results live on the local (ephemeral, on Heroku) disk: one folder per job under
 * `<dataDir>/jobs`, multer's temporary files under `<dataDir>/uploads`. Paths are built only from ids this
 * store made, never from anything a client sent.
 */
export class FileStore {
  readonly uploadsDir: string;
  private readonly jobsDir: string;

  constructor(readonly dataDir: string) {
    this.uploadsDir = path.join(dataDir, 'uploads');
    this.jobsDir = path.join(dataDir, 'jobs');
  }

  /** Starts empty: jobs live in memory, so files left by an earlier process could never be served again. */
  async reset(): Promise<void> {
    await rm(this.uploadsDir, { recursive: true, force: true });
    await rm(this.jobsDir, { recursive: true, force: true });
    await mkdir(this.uploadsDir, { recursive: true });
    await mkdir(this.jobsDir, { recursive: true });
  }

  async createJobDir(id: string): Promise<string> {
    const dir = this.jobDir(id);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  jobFile(id: string, name: string): string {
    return path.join(this.jobDir(id), name);
  }

  async adopt(tempPath: string, id: string, name: string): Promise<string> {
    const target = this.jobFile(id, name);
    await rename(tempPath, target);
    return target;
  }

  async writeJobText(id: string, name: string, text: string): Promise<void> {
    await writeFile(this.jobFile(id, name), text);
  }

  async readJobText(id: string, name: string): Promise<string> {
    return readFile(this.jobFile(id, name), 'utf8');
  }

  async removeJob(id: string): Promise<void> {
    await rm(this.jobDir(id), { recursive: true, force: true });
  }

  /** Bytes a new file may still take on the data dir's file system. */
  async freeBytes(): Promise<number> {
    const stats = await statfs(this.dataDir);
    return stats.bavail * stats.bsize;
  }

  /** Writes and deletes a small file where jobs are written; throws if that cannot be done. */
  async checkWritable(): Promise<void> {
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
