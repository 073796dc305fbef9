import { CONTENT_TYPES, type CompressedFormat } from '../../contract/index.js';
import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { PcmEncoder } from '../adapters/media/ffmpeg/encode.js';
import type { PcmLayout } from '../adapters/media/ffmpeg/policy.js';
import type { MediaTags } from '../adapters/media/wav.js';
import type { BlobStore } from '../adapters/storage/blob-store.js';
import type { JobFile } from '../adapters/storage/job-files.js';
import { isAbortError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface LiveEncodeTarget {
  file: JobFile;
  format: CompressedFormat;
  layout: PcmLayout;
  /** Where the encode is written on this machine until it is complete and stored. */
  partial: string;
  signal: AbortSignal;
  /** The master's tags, which an encode of the master carries. */
  tags?: MediaTags;
}

/**
 * Samples encoded as they come, beside the WAV master, so the file is there when the job finishes: the result's
 * own format when an encoder is free. It is only a head start, so its failure never fails the job (a server
 * without ffmpeg still enriches WAV): it is dropped, and a download of the result encodes from the master as
 * before. Into a partial file stored when complete, like every encode; the job's signal kills ffmpeg.
 */
export class LiveEncode {
  private encoder: PcmEncoder | null;

  constructor(
    private readonly target: LiveEncodeTarget,
    private readonly deps: { codec: AudioCodec; blobs: BlobStore; logger: Logger },
  ) {
    this.encoder = deps.codec.encodeStream(target.layout, target.format, target.partial, target.signal, target.tags);
  }

  async write(channels: Float32Array[]): Promise<void> {
    try {
      await this.encoder?.write(channels);
    } catch (error) {
      await this.drop(error);
    }
  }

  /** Stores the finished encode, unless it was dropped. */
  async finish(): Promise<void> {
    if (!this.encoder) return;
    const { file, format, partial } = this.target;
    try {
      await this.encoder.close();
    } catch (error) {
      await this.drop(error);
      return;
    }
    this.encoder = null; // adopt takes the file over, failed or not
    await this.deps.blobs.adopt(file, partial, CONTENT_TYPES[format]).catch((error: unknown) => this.warn(error));
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
    await this.deps.blobs.abandon(this.target.file, this.target.partial).catch(() => undefined);
    if (error && !isAbortError(error)) this.warn(error);
  }

  private warn(error: unknown): void {
    const { file } = this.target;
    this.deps.logger.warn({ err: error, jobId: file.jobId, file: file.name }, 'live encode dropped');
  }
}
