import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { z } from 'zod/mini';
import {
  batchResultNames,
  ErrorCode,
  errors,
  isFinished,
  loudnessReadingSchema,
  MATCH_LOUDNESS,
  randomSeed,
  type BatchLoudness,
  type EnrichParams,
  type JobParams,
  type JobStatus,
  type Style,
} from '../../contract/index.js';
import { albumReading, firstLevellingPass, LevellingStage, LoudnessMeter, MAX_LOUDNESS_PASSES, nextLevellingPass, type LevellingPass, type LoudnessReading } from '../../engine/loudness.js';
import type { ZipEntry } from '../adapters/archive/zip-writer.js';
import type { AudioCodec } from '../adapters/media/audio-codec.js';
import type { MediaTags } from '../adapters/media/wav.js';
import type { BlobStore } from '../adapters/storage/blob-store.js';
import type { FileStore } from '../adapters/storage/file-store.js';
import { isJobId, jobFiles } from '../adapters/storage/job-files.js';
import type { Logger } from '../logger.js';
import { creditLines, resultTags } from './credits.js';
import { cancelledJob, type Job, type Upload } from './job-record.js';
import { isGone, type JobService } from './job-service.js';

/**
 * An album's record: its jobs, in the order their files were sent, with those files' names. Stored as
 * `batch.json` with the first job (jobFiles.batch), whose id is the album's, so every process reads it from the
 * job storage and the sweeper, which deletes what belongs to no job, keeps it as long as that job lives.
 */
const batchRecordSchema = z.object({
  jobs: z.array(z.object({ id: z.string().check(z.regex(/^[0-9a-f]{32}$/)), name: z.string() })).check(z.minLength(1)),
  createdAt: z.iso.datetime(),
  /** The album's loudness target, LUFS: its songs are enriched as made, then levelled together with one gain. */
  loudness: z.optional(z.number()),
  /** Written once every song has finished: the one gain and limiter ceiling, and the album measured before and after. */
  levelling: z.optional(
    z.object({ gainDb: z.number(), ceilingDb: z.number(), before: loudnessReadingSchema, after: loudnessReadingSchema }),
  ),
});
type BatchRecord = z.infer<typeof batchRecordSchema>;

/** One song of an album: the job, as it is now, and the name of the file it enriches. */
export interface BatchJob {
  name: string;
  job: Job;
}

export interface Batch {
  id: string;
  status: JobStatus;
  progress: number;
  params: JobParams;
  jobs: BatchJob[];
  loudness?: BatchLoudness;
  createdAt: Date;
  expiresAt: Date;
}

/** What the album's zip holds, in order, and what it is called. */
export interface BatchDownload {
  fileName: string;
  entries: ZipEntry[];
}

export interface BatchParts {
  jobs: JobService;
  blobs: BlobStore;
  files: FileStore;
  codec: AudioCodec;
  styles: () => readonly Style[];
  logger: Logger;
}

/**
 * Album mode: several songs enriched the same way, as one job each through the one job lifecycle (so in both
 * modes), followed and downloaded together, deleted together. The album holds no state of its own beyond its
 * record, which lives in the job storage beside its first job.
 */
export class BatchService {
  /** Albums this process is measuring for their one gain: a second request waits on the first. */
  private readonly measuring = new Map<string, Promise<void>>();

  constructor(private readonly parts: BatchParts) {}

  /**
   * Starts one job per upload, all with the same parameters and one seed (drawn once when none was given), so
   * the album is one recipe. Takes ownership of the uploads; when any song is refused (a full queue, a full
   * disk), the songs already accepted are deleted again.
   */
  async submit(uploads: readonly Upload[], params: EnrichParams): Promise<Batch> {
    const { jobs, files } = this.parts;
    // The album is levelled as a whole once every song is made: each song is enriched as made.
    const { loudness, ...songParams } = params;
    const albumParams: EnrichParams = { ...songParams, seed: params.seed ?? randomSeed() };
    const accepted: Job[] = [];
    try {
      if (loudness === MATCH_LOUDNESS) {
        throw errors.invalidParameter('loudness', 'an album is levelled to a number of LUFS with one gain for all its songs; "match" is for single files');
      }
      for (const [index, upload] of uploads.entries()) accepted.push(await jobs.submit(upload, albumParams, undefined, { inBatch: index > 0 }));
      const [first] = accepted;
      const record: BatchRecord = {
        jobs: accepted.map((job) => ({ id: job.id, name: job.input.name })),
        createdAt: first.createdAt.toISOString(),
        ...(loudness === undefined ? {} : { loudness }),
      };
      await this.writeRecord(first.id, record);
      return this.batchOf(first.id, record, accepted);
    } catch (error) {
      await Promise.all(accepted.map((job) => jobs.remove(job.id).catch(() => undefined)));
      throw error;
    } finally {
      await Promise.all(uploads.map((upload) => files.removeFile(upload.path).catch(() => undefined)));
    }
  }

  async get(id: string): Promise<Batch> {
    const record = await this.record(id);
    const found = await Promise.all(record.jobs.map(({ id: jobId }) => this.job(jobId)));
    const [first] = found;
    // The album lives as long as its first job, which keeps its record.
    if (!first) throw errors.batchNotFound();
    const batch = this.batchOf(id, record, found.map((job, index) => job ?? cancelledJob({ ...first, id: record.jobs[index].id, input: { name: record.jobs[index].name } })));
    // Every song made: the album is measured for its one gain, here, by whichever process is asked first.
    if (this.awaitsLevelling(record, batch)) void this.measure(id).catch((error: unknown) => this.parts.logger.warn({ err: error, batchId: id }, 'album levelling failed'));
    return batch;
  }

  /** Cancels every song of the album and deletes their files, the record's job last. */
  async remove(id: string): Promise<void> {
    const record = await this.record(id);
    const [, ...rest] = record.jobs;
    await Promise.all(rest.map((job) => this.parts.jobs.remove(job.id).catch((error: unknown) => ignoreGone(error))));
    await this.parts.jobs.remove(id).catch((error: unknown) => {
      if (isGone(error)) throw errors.batchNotFound();
      throw error;
    });
  }

  /**
   * The album as a zip, once every song has finished: recipe.json and CREDITS.txt first (small, so the download
   * starts at once), then each result in the album's format, named after its input. A result is opened (and
   * encoded, for a format not yet made) only when its turn comes. Songs that failed are listed, not included.
   */
  async download(id: string): Promise<BatchDownload> {
    const batch = await this.get(id);
    const running = batch.jobs.filter(({ job }) => !isFinished(job.status)).length;
    if (running > 0) throw errors.batchNotDone(running);
    if (batch.status === 'failed') throw errors.jobFailed();
    if (batch.status !== 'done') throw errors.batchNotDone(0);
    const levelling = (await this.record(id)).levelling;
    const { format, weights } = batch.params;
    const names = batchResultNames(batch.jobs.map(({ name }) => name), weights, format);
    const modified = new Date();
    const songs = batch.jobs.map(({ name, job }, index) => ({ name, job, file: names[index] }));
    const recipe = JSON.stringify(batchRecipe(batch, songs), null, 2);
    const credits = creditsText(batch, songs, this.parts.styles());
    const entries: ZipEntry[] = [
      { name: 'recipe.json', modified, open: async () => Readable.from([Buffer.from(`${recipe}\n`)]) },
      { name: 'CREDITS.txt', modified, open: async () => Readable.from([Buffer.from(credits)]) },
      ...songs
        .filter(({ job }) => job.status === 'done')
        .map(({ job, file }) => ({
          name: file,
          modified,
          open: async () => (await (await this.song(job, format, levelling)).open()).body,
        })),
    ];
    return { fileName: `album.${Object.keys(weights).join('+')}.enriched.zip`, entries };
  }

  /** A song's file for the zip: its result, or with a loudness target the result levelled with the album's gain. */
  private song(job: Job, format: JobParams['format'], levelling: BatchRecord['levelling']) {
    if (!levelling) return this.parts.jobs.result(job.id, format);
    const pass: LevellingPass = { gainDb: levelling.gainDb, ceilingDb: levelling.ceilingDb };
    const tags = resultTags(job, this.parts.styles());
    return this.parts.jobs.albumResult(job.id, format, (master, partial, signal) => this.writeLevelled(master, partial, pass, tags, signal));
  }

  /**
   * Finds the album's one gain and writes it into the record: the album is measured as one programme (every
   * song's gating blocks together, the highest true peak); the gain that brings it to the target is tried on
   * every song through the levelling stage (gain, then the true-peak limiter at −1 dBTP), and the album measured
   * again; a try that missed (the limiters took loudness, a peak between samples got through) is corrected as
   * a single song's levelling is. Nothing is written but the record: the songs' levelled files are made from it
   * when the zip asks for them, with the same samples as measured.
   */
  private measure(id: string): Promise<void> {
    const running = this.measuring.get(id);
    if (running) return running;
    const work = (async () => {
      const record = await this.record(id);
      const batch = await this.get(id);
      if (!this.awaitsLevelling(record, batch) || record.loudness === undefined) return;
      const songs = batch.jobs.filter(({ job }) => job.status === 'done').map(({ job }) => job.id);
      const target = record.loudness;
      const before = albumReading(await this.measureSongs(songs, null));
      let pass = firstLevellingPass(target, before);
      for (let count = 1; ; count++) {
        const after = albumReading(await this.measureSongs(songs, pass));
        const next = nextLevellingPass(target, pass, after);
        if (!next || count === MAX_LOUDNESS_PASSES) {
          await this.writeRecord(id, { ...record, levelling: { gainDb: pass.gainDb, ceilingDb: pass.ceilingDb, before, after } });
          return;
        }
        pass = next;
      }
    })().finally(() => this.measuring.delete(id));
    this.measuring.set(id, work);
    return work;
  }

  /**
   * The songs one after the other: the meter runs on this thread either way, and a bucket's songs are then staged
   * on this machine's disk one at a time, not all at once.
   */
  private async measureSongs(jobIds: readonly string[], pass: LevellingPass | null): Promise<Array<{ blocks: number[]; truePeak: number | null }>> {
    const measured = [];
    for (const jobId of jobIds) measured.push(await this.measureSong(jobId, pass));
    return measured;
  }

  /** One song's gating blocks and true peak, as made (`pass` null) or through the levelling stage. */
  private async measureSong(jobId: string, pass: LevellingPass | null): Promise<{ blocks: number[]; truePeak: number | null }> {
    const master = await this.parts.blobs.stageLocal(jobFiles.result(jobId, 'wav'));
    if (!master) throw errors.jobNotFound();
    try {
      const pcm = await this.parts.codec.decode(master.path, { maxSeconds: Number.MAX_SAFE_INTEGER });
      const meter = new LoudnessMeter(pcm.sampleRate, pcm.channels);
      const stage = pass && new LevellingStage(pcm.sampleRate, pcm.channels, pass);
      for await (const chunk of pcm.chunks) meter.add(stage ? stage.push(chunk) : chunk);
      if (stage) meter.add(stage.finish());
      return { blocks: meter.blocks(), truePeak: meter.reading().truePeak };
    } finally {
      await master.release();
    }
  }

  /** Writes a song's master through the album's levelling stage into a 16-bit WAV with the song's tags. */
  private async writeLevelled(master: string, partial: string, pass: LevellingPass, tags: MediaTags, signal: AbortSignal): Promise<void> {
    const { codec } = this.parts;
    const pcm = await codec.decode(master, { maxSeconds: Number.MAX_SAFE_INTEGER, signal });
    const writer = await codec.writeWav(partial, pcm, tags);
    try {
      const stage = new LevellingStage(pcm.sampleRate, pcm.channels, pass);
      for await (const chunk of pcm.chunks) {
        signal.throwIfAborted();
        await writer.write(stage.push(chunk));
      }
      await writer.write(stage.finish());
      await writer.close();
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  /** Every song has finished, some are done, and the album has a loudness target it has not been measured for yet. */
  private awaitsLevelling(record: BatchRecord, batch: Batch): boolean {
    return record.loudness !== undefined && !record.levelling && batch.jobs.every(({ job }) => isFinished(job.status)) && batch.jobs.some(({ job }) => job.status === 'done');
  }

  private batchOf(id: string, record: BatchRecord, found: readonly Job[]): Batch {
    const [first] = found;
    const statuses = found.map((job) => job.status);
    const status: JobStatus = statuses.every(isFinished)
      ? statuses.includes('done')
        ? 'done'
        : 'failed'
      : statuses.every((s) => s === 'queued')
        ? 'queued'
        : 'running';
    const { loudness: target, levelling } = record;
    // With a target, the album is done once it has been measured for its one gain.
    const measuring = status === 'done' && target !== undefined && !levelling;
    const progress = found.reduce((sum, job) => sum + job.progress, 0) / found.length;
    return {
      id,
      status: measuring ? 'running' : status,
      progress: measuring ? Math.min(progress, 0.99) : progress,
      params: target === undefined ? first.params : { ...first.params, loudness: target },
      jobs: found.map((job, index) => ({ name: record.jobs[index].name, job })),
      ...(target !== undefined && levelling
        ? { loudness: { target, gainDb: hundredths(levelling.gainDb), before: readingOf(levelling.before), after: readingOf(levelling.after) } }
        : {}),
      createdAt: new Date(record.createdAt),
      expiresAt: first.expiresAt,
    };
  }

  /** The album's record, or 404 for an id that is no album (a single job's id included). */
  private async record(id: string): Promise<BatchRecord> {
    if (!isJobId(id)) throw errors.batchNotFound();
    // An expired or deleted first job takes the album with it, even before the sweeper removes the record.
    if (!(await this.job(id))) throw errors.batchNotFound();
    const read = await this.parts.blobs.openRange(jobFiles.batch(id)).catch(() => {
      throw errors.storageUnavailable();
    });
    if (!read) throw errors.batchNotFound();
    return batchRecordSchema.parse(JSON.parse(await text(read.body)));
  }

  /** The job, or null when it is unknown, deleted or expired. */
  private async job(id: string): Promise<Job | null> {
    return this.parts.jobs.get(id).catch((error: unknown) => {
      if (isGone(error)) return null;
      throw error;
    });
  }

  private async writeRecord(id: string, record: BatchRecord): Promise<void> {
    const { blobs } = this.parts;
    const file = jobFiles.batch(id);
    const partial = `${await blobs.localPath(file)}.part`;
    try {
      await writeFile(partial, JSON.stringify(record));
    } catch (error) {
      await blobs.abandon(file, partial).catch(() => undefined);
      throw error;
    }
    await blobs.adopt(file, partial, 'application/json');
  }
}

/** A song of the album, and what its result is called in the zip. */
interface Song {
  name: string;
  job: Job;
  file: string;
}

/** recipe.json: the album's parameters as one recipe (what the web app's "Use a recipe" reads), and each song. */
function batchRecipe(batch: Batch, songs: readonly Song[]) {
  const { style, amount, seed, format, start, end, keep, loudness, intensity } = batch.params;
  return {
    app: 'noise-enricher',
    version: 1,
    album: batch.id,
    ...(batch.loudness ? { albumLoudness: batch.loudness } : {}),
    style,
    amount,
    seed,
    format,
    start,
    end,
    keep,
    loudness,
    intensity,
    songs: songs.map(({ name, job, file }) => ({
      input: name,
      job: job.id,
      ...(job.status === 'done' ? { file } : { error: { code: job.error?.code ?? ErrorCode.ENRICH_FAILED, message: job.error?.message ?? '' } }),
    })),
  };
}

/**
 * CREDITS.txt: how the album was made and whose recordings it plays under which licence (the same for every
 * song: they share their parameters), then each song's file and the file it was made from.
 */
function creditsText(batch: Batch, songs: readonly Song[], styles: readonly Style[]): string {
  const lines = [
    `An album of ${songs.length} songs enriched by The Noise Enricher.`,
    '',
    ...creditLines({ params: batch.params, input: { name: 'album' } }, styles),
    ...(batch.loudness
      ? [
          `Album loudness: ${batch.loudness.after.integrated ?? '–'} LUFS for the album as a whole (target ${batch.loudness.target}), one gain of ${batch.loudness.gainDb} dB for every song, so the songs keep their loudness relative to each other; true peak at most ${batch.loudness.after.truePeak ?? '–'} dBTP.`,
        ]
      : []),
    '',
    'Songs:',
    ...songs.map(({ name, job, file }) => (job.status === 'done' ? `- ${file} (from "${name}")` : `- "${name}": not enriched (${job.error?.message ?? 'failed'})`)),
  ];
  return `${lines.join('\n')}\n`;
}

function hundredths(value: number): number {
  return Math.round(value * 100) / 100;
}

function readingOf(reading: LoudnessReading): LoudnessReading {
  return { integrated: reading.integrated === null ? null : hundredths(reading.integrated), truePeak: reading.truePeak === null ? null : hundredths(reading.truePeak) };
}

function ignoreGone(error: unknown): void {
  if (!isGone(error)) throw error;
}
