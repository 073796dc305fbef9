import type { EnrichParams, JobPeaks, OutputFormat, Rating } from '../../contract/index.js';
import type { StoredObjectRead } from '../adapters/storage/object-store.js';
import type { Job, Upload } from './job-service.js';

type Awaitable<T> = T | Promise<T>;

/** A file kept in object storage, opened when it is sent: whole, or the byte range an HTTP `Range` asks for. */
export interface RemoteFile {
  open(range?: string): Promise<StoredObjectRead>;
}

/** Where a job's file is: a path on this machine (embedded mode) or an object in storage (distributed mode). */
export type FileLocation = string | RemoteFile;

/**
 * What the routes and the process entry need from the jobs, whichever mode runs them: `JobService` in one
 * process with files on its disk, `DistributedJobs` over a shared queue with files in object storage.
 */
export interface JobQueue {
  /** Takes ownership of the uploaded file: it is stored with the job or deleted, whatever happens. */
  submit(upload: Upload, params: EnrichParams): Promise<Job>;
  get(id: string): Awaitable<Job>;
  /** Resolves once the job is done or failed. */
  settled(id: string): Promise<Job>;
  /** Calls `listener` with the job on every change; resolves to the unsubscribe function. */
  subscribe(id: string, listener: (job: Job) => void): Awaitable<() => void>;
  inputPath(id: string): Awaitable<FileLocation>;
  resultPath(id: string, format: OutputFormat): Promise<FileLocation>;
  peaks(id: string): Promise<JobPeaks>;
  setFeedback(id: string, rating: Rating): Awaitable<Job>;
  /** Cancels the job if it is still working and deletes its files. */
  remove(id: string): Promise<void>;
  startSweeper(): void;
  /** Refuses new work, lets work in progress finish for up to `graceMs`, then stops it. */
  shutdown(graceMs: number): Promise<void>;
  /** Jobs (or, in distributed mode, requests) this process is working on now. */
  readonly activeCount: number;
}
