import { open, rename, stat } from 'node:fs/promises';
import parseRange from 'range-parser';
import { RangeNotSatisfiable, type BlobRead, type BlobStore, type LocalCopy } from './blob-store.js';
import type { FileStore } from './file-store.js';
import type { JobFile } from './job-files.js';

/** `FILE_STORAGE=local`: a job's files are where they were written, in its folder of this machine's data folder. */
export class LocalBlobStore implements BlobStore {
  constructor(private readonly files: FileStore) {}

  async localPath(file: JobFile): Promise<string> {
    await this.files.createJobDir(file.jobId);
    return this.files.jobFile(file.jobId, file.name);
  }

  async adopt(file: JobFile, from: string): Promise<void> {
    const target = await this.localPath(file);
    if (target !== from) await rename(from, target);
  }

  abandon(_file: JobFile, path: string): Promise<void> {
    return this.files.removeFile(path);
  }

  async stageLocal(file: JobFile): Promise<LocalCopy | null> {
    const found = this.files.jobFile(file.jobId, file.name);
    return (await this.exists(file)) ? { path: found, release: async () => undefined } : null;
  }

  async openRange(file: JobFile, range?: string): Promise<BlobRead | null> {
    const handle = await open(this.files.jobFile(file.jobId, file.name), 'r').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    });
    if (!handle) return null;
    try {
      const size = (await handle.stat()).size;
      // One range is served as asked; a malformed header, or several ranges, get the whole file, as Express's own sendFile does.
      const ranges = range === undefined ? -2 : parseRange(size, range, { combine: true });
      if (ranges === -1) throw new RangeNotSatisfiable();
      if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return { body: handle.createReadStream(), length: size };
      const [{ start, end }] = ranges;
      return { body: handle.createReadStream({ start, end }), length: end - start + 1, contentRange: `bytes ${start}-${end}/${size}` };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async exists(file: JobFile): Promise<boolean> {
    return stat(this.files.jobFile(file.jobId, file.name)).then(
      (stats) => stats.isFile(),
      () => false,
    );
  }

  removeJob(jobId: string): Promise<void> {
    return this.files.removeJob(jobId);
  }

  async *list(): AsyncGenerator<{ jobId: string; lastModified: Date }> {
    yield* this.files.jobFiles();
  }

  check(): Promise<void> {
    return this.files.checkWritable();
  }

  close(): void {}
}
