import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { CompressedFormat } from '../../contract/index.js';
import type { PcmEncoder, PcmLayout } from '../adapters/media/ffmpeg.js';
import type { FileStore } from '../adapters/storage/file-store.js';
import { isAbortError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface LiveEncodeTarget {
  jobId: string;
  format: CompressedFormat;
  layout: PcmLayout;
  signal: AbortSignal;
}

/**
 * The job's own format encoded from the enriched slices as they come, beside the WAV master, so its first
 * download needs no second pass. It is only a head start: if it fails, the download encodes from the master as
 * before (and reports that encode's error), so its failure never fails the job. Into a partial file renamed
 * when complete, like every encode; the job's signal kills ffmpeg.
 */
export class LiveEncode {
  private readonly partial: string;
  private encoder: PcmEncoder | null;

  constructor(
    private readonly target: LiveEncodeTarget,
    private readonly deps: { codec: AudioCodec; files: FileStore; logger: Logger },
  ) {
    this.partial = deps.files.jobFile(target.jobId, `result.${target.format}.part`);
    this.encoder = deps.codec.encodeStream(target.layout, target.format, this.partial, target.signal);
  }

  get format(): CompressedFormat {
    return this.target.format;
  }

  async write(channels: Float32Array[]): Promise<void> {
    try {
      await this.encoder?.write(channels);
    } catch (error) {
      await this.drop(error);
    }
  }

  /** The finished result's path, or null when the encode was dropped. */
  async finish(): Promise<string | null> {
    if (!this.encoder) return null;
    try {
      await this.encoder.close();
      return await this.deps.files.adopt(this.partial, this.target.jobId, `result.${this.target.format}`);
    } catch (error) {
      await this.drop(error);
      return null;
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
    await this.deps.files.removeFile(this.partial).catch(() => undefined);
    if (error && !isAbortError(error)) {
      this.deps.logger.warn({ err: error, jobId: this.target.jobId, format: this.target.format }, 'live encode dropped; the download will encode from the master');
    }
  }
}
