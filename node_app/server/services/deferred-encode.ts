import { CONTENT_TYPES, type CompressedFormat } from '../../contract/index.js';
import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { PcmLayout } from '../adapters/media/ffmpeg/policy.js';
import type { WavWriter } from '../adapters/media/wav.js';
import type { BlobStore } from '../adapters/storage/blob-store.js';
import type { FileStore } from '../adapters/storage/file-store.js';
import type { JobFile } from '../adapters/storage/job-files.js';
import { isAbortError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { JobEncode } from './live-encode.js';

export interface DeferredEncodeTarget {
  file: JobFile;
  format: CompressedFormat;
  /** Where the encode is written on this machine until it is complete and stored. */
  partial: string;
  signal: AbortSignal;
}

type Deps = { codec: AudioCodec; blobs: BlobStore; files: FileStore; logger: Logger };

/**
 * A listening copy encoded once the model's work is done instead of beside it, from a 16-bit WAV: the job's
 * master for the result's copy, or a spool of the samples written here as they come for the original's. A dyno's
 * memory limit counts every process: each Debian ffmpeg is about 52 MB of RSS, and a job that encoded both copies
 * live ran three at once (its decoder and two encoders) beside the server at its largest. Encoded afterwards, one
 * at a time, they cost one ffmpeg while the model's memory is idle. Like a live encode it is only a head start:
 * its failure never fails the job, the copy is dropped (a download encodes from the master).
 */
export class DeferredEncode implements JobEncode {
  readonly deferred = true;
  private dropped = false;

  private constructor(
    private readonly target: DeferredEncodeTarget,
    private readonly deps: Deps,
    /** The WAV the copy is encoded from. */
    private readonly source: string,
    /** Whether `source` is this encode's own spool, deleted once encoded. */
    private readonly ownsSource: boolean,
    /** The spool while it is written; null once closed or dropped. */
    private spool: WavWriter | null,
  ) {}

  /** A copy of samples that pass by once (the decoded input): spooled beside the partial file until `finish`. */
  static async spooled(target: DeferredEncodeTarget, layout: PcmLayout, deps: Deps): Promise<DeferredEncode> {
    const spoolPath = `${target.partial}.wav`;
    return new DeferredEncode(target, deps, spoolPath, true, await deps.codec.writeWav(spoolPath, layout));
  }

  /** A copy of a WAV someone else writes (the master), complete by the time `finish` is called. */
  static of(target: DeferredEncodeTarget, wavPath: string, deps: Deps): DeferredEncode {
    return new DeferredEncode(target, deps, wavPath, false, null);
  }

  async write(channels: Float32Array[]): Promise<void> {
    if (!this.spool) return;
    try {
      await this.spool.write(channels);
    } catch (error) {
      await this.drop(error);
    }
  }

  /** Encodes the copy and stores it, unless it was dropped; the spool is deleted either way. */
  async finish(): Promise<void> {
    if (this.dropped) return;
    const { file, format, partial, signal } = this.target;
    try {
      await this.spool?.close();
      this.spool = null;
      await this.deps.codec.transcode(this.source, format, partial, signal);
      await this.deps.blobs.adopt(file, partial, CONTENT_TYPES[format]);
      await this.removeSpool();
    } catch (error) {
      await this.drop(error);
    }
  }

  /** Stops the copy after a failure of the job itself. */
  async abort(): Promise<void> {
    await this.drop(null);
  }

  private async drop(error: unknown): Promise<void> {
    if (this.dropped) return;
    this.dropped = true;
    await this.spool?.abort().catch(() => undefined);
    this.spool = null;
    await this.removeSpool();
    await this.deps.files.removeFile(this.target.partial).catch(() => undefined);
    if (!error || isAbortError(error)) return;
    const { file } = this.target;
    this.deps.logger.warn({ err: error, jobId: file.jobId, file: file.name }, 'listening copy dropped');
  }

  private async removeSpool(): Promise<void> {
    if (this.ownsSource) await this.deps.files.removeFile(this.source).catch(() => undefined);
  }
}
