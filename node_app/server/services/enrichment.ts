import { writeFile } from 'node:fs/promises';
import { CONTENT_TYPES, type JobOutput, type JobPeaks, type JobStage } from '../../contract/index.js';
import { framesPerPeak, PeakMeter } from '../../engine/peaks.js';
import type { AudioCodec, PcmStream } from '../adapters/media/audio-codec.js';
import type { PcmLayout } from '../adapters/media/ffmpeg/policy.js';
import type { WavWriter } from '../adapters/media/wav.js';
import type { BlobStore } from '../adapters/storage/blob-store.js';
import type { FileStore } from '../adapters/storage/file-store.js';
import { jobFiles } from '../adapters/storage/job-files.js';
import type { Logger } from '../logger.js';
import type { JobData } from './job-record.js';
import { LiveEncode } from './live-encode.js';
import type { Models } from './models.js';
import type { Semaphore } from './semaphore.js';

export interface EnrichmentParts {
  codec: AudioCodec;
  models: Pick<Models, 'enrich'>;
  blobs: BlobStore;
  files: FileStore;
  logger: Logger;
  /** The encoder slots downloads take too: the job's own format is encoded live only when one is free. */
  encodeSlots: Semaphore;
}

export interface EnrichmentTask {
  id: string;
  data: JobData;
  /** The upload, as a file on this machine. */
  input: string;
  maxDurationSeconds: number;
  signal: AbortSignal;
  report(stage: JobStage, fraction: number): void;
}

export const EMPTY_PEAKS: JobPeaks = { secondsPerPeak: 0, expectedPeaks: null, complete: false, input: [], result: [] };

interface Meters {
  input: PeakMeter;
  result: PeakMeter;
  secondsPerPeak: number;
  expectedPeaks: number | null;
}

/**
 * One job's decode → model → WAV master as one stream, so memory holds a few windows of the song and never all
 * of it; the job's own format is encoded alongside when an encoder is free, and the waveform peaks of input and
 * result are measured on the way. Everything it writes is stored (`adopt`) only once complete; on a failure it
 * deletes what it wrote here.
 */
export class Enrichment {
  private meters: Meters | null = null;

  constructor(
    private readonly parts: EnrichmentParts,
    private readonly task: EnrichmentTask,
  ) {}

  /** The waveform so far, for the page that watches the job. */
  peaks(): JobPeaks {
    const meters = this.meters;
    if (!meters) return EMPTY_PEAKS;
    return { secondsPerPeak: meters.secondsPerPeak, expectedPeaks: meters.expectedPeaks, complete: false, input: meters.input.peaks(), result: meters.result.peaks() };
  }

  /** Progress follows the frames written against what the decoder expects, held under one until the end. */
  async run(): Promise<JobOutput> {
    const { codec, models, blobs, files } = this.parts;
    const { id, data, signal, report } = this.task;
    const { params } = data;
    report('decoding', 0);
    const decoded = await codec.decode(this.task.input, {
      startSeconds: params.start,
      endSeconds: params.end,
      maxSeconds: this.task.maxDurationSeconds,
      signal,
    });
    report('enriching', 0);
    const perPeak = framesPerPeak(decoded.expectedFrames, decoded.sampleRate);
    const meters: Meters = {
      input: new PeakMeter(perPeak),
      result: new PeakMeter(perPeak),
      secondsPerPeak: perPeak / decoded.sampleRate,
      expectedPeaks: decoded.expectedFrames ? Math.ceil(decoded.expectedFrames / perPeak) : null,
    };
    this.meters = meters;
    const input: PcmStream = { ...decoded, chunks: metered(decoded.chunks, meters.input) };
    const enriched = models.enrich(input, { amount: params.amount, styleVector: Float32Array.from(data.styleVector), seed: params.seed }, { signal });
    const layout = { sampleRate: input.sampleRate, channels: input.channels };
    const written: string[] = [];
    const localPath = async (file: Parameters<BlobStore['localPath']>[0]) => {
      const local = await blobs.localPath(file);
      written.push(local);
      return local;
    };
    let writer: WavWriter | null = null;
    let live: { encode: LiveEncode; release: () => void } | null = null;
    let frames = 0;
    try {
      const master = await localPath(jobFiles.result(id, 'wav'));
      writer = await codec.writeWav(master, layout);
      live = await this.startLiveEncode(layout, localPath);
      for await (const chunk of enriched) {
        await Promise.all([writer.write(chunk), live?.encode.write(chunk)]);
        meters.result.add(chunk);
        frames += chunk[0].length;
        if (input.expectedFrames) report('enriching', Math.min(0.99, frames / input.expectedFrames));
      }
      signal.throwIfAborted();
      report('encoding', 0);
      await writer.close();
      await blobs.adopt(jobFiles.result(id, 'wav'), master, CONTENT_TYPES.wav);
      await live?.encode.finish();
      const result = meters.result.peaks();
      const peaks: JobPeaks = { secondsPerPeak: meters.secondsPerPeak, expectedPeaks: result.length, complete: true, input: meters.input.peaks(), result };
      const peaksFile = await localPath(jobFiles.peaks(id));
      await writeFile(peaksFile, JSON.stringify(peaks));
      await blobs.adopt(jobFiles.peaks(id), peaksFile, 'application/json');
    } catch (error) {
      await writer?.abort().catch(() => undefined);
      await live?.encode.abort();
      // Stops the worker and the decoder if the writer was what failed.
      await enriched.return(undefined).catch(() => undefined);
      await Promise.all(written.map((file) => files.removeFile(file).catch(() => undefined)));
      throw error;
    } finally {
      live?.release();
    }
    return { sampleRate: input.sampleRate, channels: input.channels, durationSeconds: frames / input.sampleRate };
  }

  /**
   * Encodes the job's own format while it is enriched when an encoder is free now (the same slots as the
   * downloads' encodes); otherwise its first download encodes from the master.
   */
  private async startLiveEncode(
    layout: PcmLayout,
    localPath: (file: Parameters<BlobStore['localPath']>[0]) => Promise<string>,
  ): Promise<{ encode: LiveEncode; release: () => void } | null> {
    const { format } = this.task.data.params;
    if (format === 'wav') return null;
    const release = this.parts.encodeSlots.tryAcquire();
    if (!release) return null;
    try {
      const partial = `${await localPath(jobFiles.result(this.task.id, format))}.part`;
      const target = { jobId: this.task.id, format, layout, partial, signal: this.task.signal };
      return { encode: new LiveEncode(target, this.parts), release };
    } catch (error) {
      release();
      throw error;
    }
  }
}

async function* metered(chunks: AsyncIterable<Float32Array[]>, meter: PeakMeter): AsyncGenerator<Float32Array[]> {
  for await (const chunk of chunks) {
    meter.add(chunk);
    yield chunk;
  }
}
