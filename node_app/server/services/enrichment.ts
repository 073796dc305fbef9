import { writeFile } from 'node:fs/promises';
import { CONTENT_TYPES, intensityPoints, LISTENING_FORMAT, MATCH_LOUDNESS, type JobOutput, type JobPeaks, type JobStage, type LoudnessReport } from '../../contract/index.js';
import { firstLevellingPass, LevellingStage, LoudnessMeter, MAX_LOUDNESS_PASSES, nextLevellingPass, type LoudnessReading } from '../../engine/loudness.js';
import { framesPerPeak, PeakMeter } from '../../engine/peaks.js';
import { SPLICE_FADE_SECONDS, spliceSection, type SpliceSection } from '../../engine/splice.js';
import type { AudioCodec, PcmStream } from '../adapters/media/audio-codec.js';
import type { PcmLayout } from '../adapters/media/ffmpeg/policy.js';
import { createPcmSpool, type PcmSpool } from '../adapters/media/pcm-spool.js';
import type { MediaTags, WavWriter } from '../adapters/media/wav.js';
import type { BlobStore } from '../adapters/storage/blob-store.js';
import type { FileStore } from '../adapters/storage/file-store.js';
import { jobFiles, type JobFile } from '../adapters/storage/job-files.js';
import type { Logger } from '../logger.js';
import type { JobData } from './job-record.js';
import { resultTags } from './credits.js';
import { LiveEncode } from './live-encode.js';
import { startPastEnd } from './media-failures.js';
import { readOwnTexture } from './own-texture.js';
import type { Models } from './models.js';
import type { Semaphore } from './semaphore.js';

export interface EnrichmentParts {
  codec: AudioCodec;
  models: Pick<Models, 'enrich' | 'catalog'>;
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
  /** The user's own recording for the style "own", as a file on this machine. */
  texture?: string;
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
    const ownTexture = this.task.texture ? await readOwnTexture(codec, this.task.texture, models.catalog().sampleRate, signal) : undefined;
    // Kept whole, the song is decoded whole (and held to the length limit whole); only its section is enriched.
    const whole = params.keep === 'whole';
    const decoded = await codec.decode(this.task.input, {
      startSeconds: whole ? undefined : params.start,
      endSeconds: whole ? undefined : params.end,
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
    const layout = { sampleRate: decoded.sampleRate, channels: decoded.channels };
    // Paths handed out by the store and not yet stored: given back if the job fails.
    const staged = new Map<string, JobFile>();
    const stage = async (file: JobFile) => {
      const local = await blobs.localPath(file);
      staged.set(local, file);
      return local;
    };
    const store = (file: JobFile, local: string, contentType: string) => {
      staged.delete(local);
      return blobs.adopt(file, local, contentType);
    };
    // With a loudness target the input's loudness is measured on the way in, for "match" and for the report.
    const inputLoudness = params.loudness === undefined ? null : new LoudnessMeter(layout.sampleRate, layout.channels);
    const input: PcmStream = { ...decoded, chunks: metered(decoded.chunks, meters.input, inputLoudness) };
    const section = sectionOf(params, decoded);
    // The curve is in the song's time: the enriched stream starts at the section's first frame, kept whole or not.
    const intensity = params.intensity === undefined ? undefined : { points: intensityPoints(params.intensity), firstFrame: section.from };
    const request = {
      amount: params.amount,
      styleVector: Float32Array.from(data.styleVector),
      seed: params.seed,
      ...(intensity ? { intensity } : {}),
      ...(ownTexture ? { ownTexture } : {}),
    };
    let sectionFrames = 0;
    const enriched = whole
      ? spliceSection(input.chunks, section, (chunks) => {
          const counted = counting(chunks, (frames) => (sectionFrames += frames));
          return models.enrich({ sampleRate: input.sampleRate, channels: input.channels, chunks: counted }, request, { signal });
        })
      : models.enrich(input, request, { signal });
    // Every master writer opened, so a failure closes whichever is open (closing one already closed does nothing).
    const writers: WavWriter[] = [];
    // With a loudness target: the enriched song kept at full precision until the gain is known, and its meters.
    let levelling: { spool: PcmSpool; path: string; input: LoudnessMeter; enriched: LoudnessMeter } | null = null;
    const encodes: LiveEncode[] = [];
    const releases: Array<() => void> = [];
    let frames = 0;
    let loudness: LoudnessReport | undefined;
    // The credits, licence and recipe go inside the master, and from it into every encode.
    const tags = resultTags(data, models.catalog().list());
    try {
      const master = await stage(jobFiles.result(id, 'wav'));
      let sink: (chunk: Float32Array[]) => Promise<unknown>;
      if (inputLoudness) {
        // The gain is known only once the whole song has been measured: it waits on disk, at full precision, and
        // the result's encodes are made from the levelled master when first asked for.
        const path = `${master}.spool`;
        const spool = await createPcmSpool(path, layout.channels);
        const enrichedLoudness = new LoudnessMeter(layout.sampleRate, layout.channels);
        levelling = { spool, path, input: inputLoudness, enriched: enrichedLoudness };
        sink = (chunk) => {
          enrichedLoudness.add(chunk);
          return spool.write(chunk);
        };
      } else {
        const wav = await codec.writeWav(master, layout, tags);
        writers.push(wav);
        encodes.push(...(await this.resultEncodes(layout, tags, releases, decoded.viaFfmpeg)));
        sink = (chunk) => Promise.all([wav.write(chunk), ...encodes.map((encode) => encode.write(chunk))]);
      }
      for await (const chunk of enriched) {
        await sink(chunk);
        meters.result.add(chunk);
        frames += chunk[0].length;
        if (input.expectedFrames) report('enriching', Math.min(0.99, frames / input.expectedFrames));
      }
      signal.throwIfAborted();
      if (whole && sectionFrames === 0) throw startPastEnd(frames / layout.sampleRate);
      report('encoding', 0);
      if (levelling) {
        const { spool } = levelling;
        await spool.finish();
        loudness = await this.level(spool, { path: master, layout, tags }, levelling.input.reading(), levelling.enriched.reading(), (wav) => writers.push(wav));
        await files.removeFile(levelling.path);
      } else {
        await writers[0]?.close();
      }
      for (const encode of encodes) await encode.finish();
      signal.throwIfAborted();
      await store(jobFiles.result(id, 'wav'), master, CONTENT_TYPES.wav);
      const result = meters.result.peaks();
      const peaks: JobPeaks = { secondsPerPeak: meters.secondsPerPeak, expectedPeaks: result.length, complete: true, input: meters.input.peaks(), result };
      const peaksFile = await stage(jobFiles.peaks(id));
      await writeFile(peaksFile, JSON.stringify(peaks));
      await store(jobFiles.peaks(id), peaksFile, 'application/json');
    } catch (error) {
      await Promise.all(writers.map((writer) => writer.abort().catch(() => undefined)));
      await levelling?.spool.finish().catch(() => undefined);
      await Promise.all(encodes.map((encode) => encode.abort()));
      // Stops the worker and the decoder if the writer was what failed.
      await enriched.return(undefined).catch(() => undefined);
      if (levelling) await files.removeFile(levelling.path).catch(() => undefined);
      await Promise.all([...staged].map(([local, file]) => blobs.abandon(file, local).catch(() => undefined)));
      throw error;
    } finally {
      for (const release of releases) release();
    }
    return { sampleRate: layout.sampleRate, channels: layout.channels, durationSeconds: frames / layout.sampleRate, ...(loudness ? { loudness } : {}) };
  }

  /**
   * Writes the master from the spooled song at the job's loudness target: a gain, then a limiter that keeps the
   * true peak under −1 dBTP, measured after; a pass that missed (the limiter took loudness, or a peak between
   * samples got through) is written again, corrected by what it missed. The result's waveform is drawn from the
   * last pass. `onWriter` hands each pass's writer to the caller, which aborts it on a failure.
   */
  private async level(
    spool: PcmSpool,
    master: { path: string; layout: PcmLayout; tags: MediaTags },
    input: LoudnessReading,
    enriched: LoudnessReading,
    onWriter: (writer: WavWriter) => unknown,
  ): Promise<LoudnessReport> {
    const { codec } = this.parts;
    const { data, signal, report } = this.task;
    const meters = this.meters;
    if (!meters) throw new Error('levelling before enriching');
    const { layout } = master;
    const target = data.params.loudness === MATCH_LOUDNESS ? input.integrated : (data.params.loudness ?? null);
    let pass = firstLevellingPass(target, enriched);
    for (let count = 1; ; count++) {
      const writer = await codec.writeWav(master.path, layout, master.tags);
      onWriter(writer);
      const stage = new LevellingStage(layout.sampleRate, layout.channels, pass);
      const meter = new LoudnessMeter(layout.sampleRate, layout.channels);
      const peaks = new PeakMeter(meters.result.framesPerPeak);
      const emit = async (chunk: Float32Array[]) => {
        meter.add(chunk);
        peaks.add(chunk);
        await writer.write(chunk);
      };
      let done = 0;
      for await (const chunk of spool.read()) {
        signal.throwIfAborted();
        await emit(stage.push(chunk));
        done += chunk[0].length;
        report('encoding', Math.min(0.99, (count - 1 + done / Math.max(1, spool.frames)) / MAX_LOUDNESS_PASSES));
      }
      await emit(stage.finish());
      await writer.close();
      const result = meter.reading();
      const next = nextLevellingPass(target, pass, result);
      if (!next || count === MAX_LOUDNESS_PASSES) {
        meters.result = peaks;
        return { target: target === null ? null : rounded(target), gainDb: rounded(pass.gainDb), input: readingOf(input), result: readingOf(result) };
      }
      pass = next;
    }
  }

  /**
   * The result's own format encoded while it is enriched when an encoder is free now (the same slots as the
   * downloads' encodes); otherwise its first download encodes from the master. An mp3 result is the listening
   * copy, made after the job from the master when an ffmpeg decodes the input: an mp3 job runs one ffmpeg at a
   * time, so a 10-minute song stays in its memory budget. A WAV, read in process, leaves room for the encoder
   * beside the model, and the result is there when the job is done.
   */
  private async resultEncodes(
    layout: PcmLayout,
    tags: MediaTags,
    releases: Array<() => void>,
    decoderIsFfmpeg: boolean,
  ): Promise<LiveEncode[]> {
    const { id, data, signal } = this.task;
    const { format } = data.params;
    if (format === 'wav' || (format === LISTENING_FORMAT && decoderIsFfmpeg)) return [];
    const release = this.parts.encodeSlots.tryAcquire();
    if (!release) return [];
    releases.push(release);
    const file = jobFiles.result(id, format);
    return [new LiveEncode({ file, format, layout, tags, partial: `${await this.parts.blobs.localPath(file)}.part`, signal }, this.parts)];
  }
}

/**
 * Reads the input's slices on their way to the model and measures their peaks (and loudness). Each slice is read
 * before it is handed on, because the model's workers take its buffers.
 */
async function* metered(chunks: AsyncIterable<Float32Array[]>, meter: PeakMeter, loudness: LoudnessMeter | null): AsyncGenerator<Float32Array[]> {
  for await (const chunk of chunks) {
    meter.add(chunk);
    loudness?.add(chunk);
    yield chunk;
  }
}

/** The section of a song kept whole, in frames. */
function sectionOf(params: JobData['params'], song: PcmStream): SpliceSection {
  const from = Math.round((params.start ?? 0) * song.sampleRate);
  const to = params.end === undefined ? Number.POSITIVE_INFINITY : Math.round(params.end * song.sampleRate);
  const fadeFrames = Math.round(SPLICE_FADE_SECONDS * song.sampleRate);
  return { from, to, fadeFrames };
}

async function* counting(chunks: AsyncIterable<Float32Array[]>, count: (frames: number) => void): AsyncGenerator<Float32Array[]> {
  for await (const chunk of chunks) {
    count(chunk[0].length);
    yield chunk;
  }
}

/** Hundredths of a dB or LU: finer than any meter agrees with another. */
function rounded(value: number): number {
  return Math.round(value * 100) / 100;
}

function readingOf(reading: LoudnessReading): LoudnessReading {
  return {
    integrated: reading.integrated === null ? null : rounded(reading.integrated),
    truePeak: reading.truePeak === null ? null : rounded(reading.truePeak),
  };
}
