import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StyleBanks } from '../../../engine/texture.js';
import type { BankReader } from './bank-reader.js';
import { bankFilesOf, mapBanks, type LoadedManifest } from './manifest.js';

/** The banks a song uses, held until it lets them go. */
export interface HeldBanks {
  /** By style index; the styles the song does not use have none. */
  banks: StyleBanks;
  release(): void;
}

interface Entry {
  pcm: Promise<Int16Array>;
  users: number;
  timer?: NodeJS.Timeout;
}

/**
 * A recording no song has used for this long is let go, as an idle worker lets its ONNX session go: reading it
 * back from its raw file takes milliseconds, and held for 30 s rain's 7.4 MB were still there when the server was
 * measured 5 s after its last song.
 */
const LINGER_MS = 2_000;

/**
 * The styles' recordings, read when a song needs them and let go a while after the last song that did. All
 * twelve styles' banks are 41.5 MB of 16-bit samples, which a dyno's 512 MB counts for as long as they are held;
 * a song holds only the styles its mix names. A file that several styles share (thunderstorm's bed is rain) is
 * one array, and the samples live in shared memory, so the workers of a song read this one copy.
 *
 * The FLAC files are decoded once, at start, by one ffmpeg into raw 16-bit files in `cacheDir` (on disk they cost
 * no memory): reading one back takes milliseconds, where an ffmpeg per file took 0.15 s of CPU each (a second for a
 * style).
 * A raw file that has gone (a tmp cleaner) is decoded again.
 */
export class BankCache {
  private readonly files = new Map<string, Entry>();

  constructor(
    private readonly manifest: LoadedManifest,
    private readonly reader: BankReader,
    /** Where the raw files go, asked each time: the launcher's folder is a new one if it had to restart. */
    private readonly cacheDir: () => string,
    private readonly lingerMs = LINGER_MS,
  ) {}

  /** Decodes every recording once into the cache and keeps none in memory: a bank that cannot be read fails the start. */
  async check(): Promise<void> {
    const files = [...new Set(this.manifest.styles.flatMap((style) => bankFilesOf(this.manifest, style)))];
    await mkdir(this.cacheDir(), { recursive: true });
    await this.reader.readAllInto(files.map((file) => ({ file, to: this.rawPath(file) })), this.manifest.sampleRate);
  }

  /** The banks of the styles that `weights` give a weight to, held until `release`. */
  async acquire(weights: Float32Array): Promise<HeldBanks> {
    const held: Array<[string, Entry]> = [];
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      for (const [file, entry] of held) this.letGo(file, entry);
    };
    try {
      const banks = await mapBanks(this.manifest, (file) => {
        const entry = this.hold(file);
        held.push([file, entry]);
        return entry.pcm;
      }, (style) => weights[style.index] > 0);
      return { banks, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** How many recordings are held now, for tests. */
  get heldFiles(): number {
    return this.files.size;
  }

  private hold(file: string): Entry {
    let entry = this.files.get(file);
    if (!entry) {
      const pcm = this.load(file);
      const created: Entry = { pcm, users: 0 };
      // A read that failed is not kept: the next song tries again.
      pcm.catch(() => {
        if (this.files.get(file) === created) this.files.delete(file);
      });
      this.files.set(file, created);
      entry = created;
    }
    clearTimeout(entry.timer);
    entry.users++;
    return entry;
  }

  private letGo(file: string, entry: Entry): void {
    entry.users--;
    if (entry.users > 0 || this.files.get(file) !== entry) return;
    entry.timer = setTimeout(() => {
      if (entry.users === 0 && this.files.get(file) === entry) this.files.delete(file);
    }, this.lingerMs);
    entry.timer.unref();
  }

  /**
   * The recording in shared memory, read straight into it from its raw file, so no second copy waits for the
   * garbage collector; decoded again when the raw file has gone or shrunk.
   */
  private async load(file: string): Promise<Int16Array> {
    const read = await this.readRaw(file).catch(() => null);
    return read ?? toShared(await this.decode(file));
  }

  private async readRaw(file: string): Promise<Int16Array | null> {
    const raw = await open(this.rawPath(file), 'r');
    try {
      const { size } = await raw.stat();
      const bytes = new Uint8Array(new SharedArrayBuffer(size - (size % 2)));
      for (let got = 0; got < bytes.length; ) {
        const { bytesRead } = await raw.read(bytes, got, bytes.length - got, got);
        if (bytesRead === 0) return null;
        got += bytesRead;
      }
      return new Int16Array(bytes.buffer);
    } finally {
      await raw.close();
    }
  }

  private async decode(file: string): Promise<Int16Array> {
    const samples = await this.reader.read(file, this.manifest.sampleRate);
    const raw = this.rawPath(file);
    const partial = `${raw}.part`;
    // Written whole, then renamed: a song never reads half a file. A cache that cannot be written only costs time.
    await mkdir(this.cacheDir(), { recursive: true })
      .then(() => writeFile(partial, new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength)))
      .then(() => rename(partial, raw))
      .catch(() => undefined);
    return samples;
  }

  /** The raw file of a recording: its path under the models folder, flattened. */
  private rawPath(file: string): string {
    return path.join(this.cacheDir(), `${path.relative(this.manifest.modelsDir, file).replace(/[\\/]/g, '_')}.s16`);
  }
}

function toShared(samples: Int16Array): Int16Array {
  const shared = new Int16Array(new SharedArrayBuffer(samples.byteLength));
  shared.set(samples);
  return shared;
}
