import type { Readable } from 'node:stream';
import type { JobFile } from './job-files.js';

/** A stored file's bytes, being read: the whole file, or the byte range asked for. */
export interface BlobRead {
  body: Readable;
  /** Bytes in this answer. */
  length: number;
  /** `bytes first-last/total` when a range was asked for and served. */
  contentRange?: string;
}

/** A stored file as a file on this machine, for as long as the caller needs it. */
export interface LocalCopy {
  path: string;
  /** Done with it: a copy made for the caller is deleted. */
  release(): Promise<void>;
}

/** An HTTP `Range` that starts past the end of the file: 416 for the client. */
export class RangeNotSatisfiable extends Error {
  constructor() {
    super('the range starts past the end of the file');
    this.name = 'RangeNotSatisfiable';
  }
}

/**
 * Where jobs' files are kept (`FILE_STORAGE`): this machine's data folder, or an S3 bucket that every process
 * reads. Files are always written on this machine first (`localPath`, then `adopt`) and read as a stream
 * (`openRange`, for downloads) or as a local file (`stageLocal`, for ffmpeg and the WAV reader), so the job
 * lifecycle is written once for both.
 */
export interface BlobStore {
  /**
   * Where on this machine `file` is written before `adopt` stores it: its own place on local storage, a staging file
   * otherwise. Each path handed out (or a path made from it, such as `<path>.part`) ends in one `adopt` or one `abandon`.
   */
  localPath(file: JobFile): Promise<string>;
  /** Stores the file at `from` (on this machine) as `file`, taking it over, failed or not: it is moved, or uploaded and deleted. */
  adopt(file: JobFile, from: string, contentType?: string): Promise<void>;
  /** Gives up a path from `localPath` without storing it: whatever was written there is deleted. */
  abandon(file: JobFile, path: string): Promise<void>;
  /** `file` as a file on this machine, or null when there is no such file. */
  stageLocal(file: JobFile): Promise<LocalCopy | null>;
  /** `file`'s bytes, whole or the HTTP `range`; null when there is no such file. Throws RangeNotSatisfiable. */
  openRange(file: JobFile, range?: string): Promise<BlobRead | null>;
  exists(file: JobFile): Promise<boolean>;
  /** Deletes every file of the job. */
  removeJob(jobId: string): Promise<void>;
  /** Every stored file's job and when it was written: the sweeper's way to find files no job owns. */
  list(): AsyncGenerator<{ jobId: string; lastModified: Date }>;
  /** Throws unless files can be stored. */
  check(): Promise<void>;
  close(): void;
}
