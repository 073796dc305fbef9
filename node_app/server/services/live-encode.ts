import { CONTENT_TYPES, type CompressedFormat } from '../../contract/index.js';
import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { PcmEncoder } from '../adapters/media/ffmpeg/encode.js';
import type { PcmLayout } from '../adapters/media/ffmpeg/policy.js';
import type { BlobStore } from '../adapters/storage/blob-store.js';
import type { FileStore } from '../adapters/storage/file-store.js';
import { jobFiles } from '../adapters/storage/job-files.js';
import { isAbortError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface LiveEncodeTarget {
  jobId: string;
  format: CompressedFormat;
  layout: PcmLayout;
  /** Where the encode is written on this machine until it is complete and stored. */
  partial: string;
  signal: AbortSignal;
}

/**
 * The job's own format encoded from the enriched slices as they come, beside the WAV master, so its first
 * download needs no second pass. It is only a head start: if it fails, the download encodes from the master as
 * before (and reports that encode's error), so its failure never fails the job. Into a partial file stored
 * when complete, like every encode; the job's signal kills ffmpeg.
 */
export class LiveEncode {
  private encoder: PcmEncoder | null;

  constructor(
    private readonly target: LiveEncodeTarget,
    private readonly deps: { codec: AudioCodec; blobs: BlobStore; files: FileStore; logger: Logger },
  ) {
    this.encoder = deps.codec.encodeStream(target.layout, target.format, target.partial, target.signal);
  }

  async write(channels: Float32Array[]): Promise<void> {
    try {
      await this.encoder?.write(channels);
    } catch (error) {
      await this.drop(error);
    }
  }

  /** Stores the finished encode beside the master, unless it was dropped. */
  async finish(): Promise<void> {
    if (!this.encoder) return;
    const { jobId, format, partial } = this.target;
    try {
      await this.encoder.close();
      await this.deps.blobs.adopt(jobFiles.result(jobId, format), partial, CONTENT_TYPES[format]);
    } catch (error) {
      await this.drop(error);
    }
  }

  /** Stops the encoder after a failure of the job itself. */
  async abort(): Promise<void> {
    await this.drop(null);
  }

  private async drop(error: unknown): Promise<void> {
    const encoder = this.encoder;
    if (!encoder) return;
    this.encoder = null;
    await encoder.abort();
    await this.deps.files.removeFile(this.target.partial).catch(() => undefined);
    if (error && !isAbortError(error)) {
      this.deps.logger.warn({ err: error, jobId: this.target.jobId, format: this.target.format }, 'live encode dropped; the download will encode from the master');
    }
  }
}
