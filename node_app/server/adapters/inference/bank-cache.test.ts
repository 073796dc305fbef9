import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { BankCache } from './bank-cache.js';
import type { BankReader } from './bank-reader.js';
import { loadManifest } from './manifest.js';

const manifest = await loadManifest(path.resolve('models'));
const index = (id: string) => manifest.styles.find((style) => style.id === id)!.index;
const weights = (mix: Record<string, number>) => {
  const vector = new Float32Array(manifest.styles.length);
  for (const [id, weight] of Object.entries(mix)) vector[index(id)] = weight;
  return vector;
};

/** A reader that counts its reads (one read per file, whether alone or with others) and gives each file a length of its own. */
function countingReader(fail?: (file: string) => boolean): { reader: BankReader; reads: string[] } {
  const reads: string[] = [];
  const read = async (file: string) => {
    reads.push(file);
    if (fail?.(file)) throw new Error(`could not read ${file}`);
    return new Int16Array(100 + path.basename(file).length);
  };
  return {
    reads,
    reader: {
      read,
      async readAllInto(files) {
        for (const { file, to } of files) await writeFile(to, new Uint8Array((await read(file)).buffer));
      },
    },
  };
}

const made: string[] = [];
async function cacheDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enricher-banks-'));
  made.push(dir);
  return dir;
}
const dirOf = (dir: string) => () => dir;

afterAll(() => Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true }))));

async function cache(reader: BankReader, lingerMs = 50): Promise<BankCache> {
  return new BankCache(manifest, reader, dirOf(await cacheDir()), lingerMs);
}

describe('BankCache', () => {
  it('holds only the banks of the styles a song uses, in shared memory', async () => {
    const { reader, reads } = countingReader();
    const banks = await cache(reader);
    const held = await banks.acquire(weights({ wind: 0.6, blues: 0.4 }));
    expect(held.banks[index('wind')]?.bed).toHaveLength(manifest.styles[index('wind')].bank!.bed.length);
    expect(held.banks[index('wind')]?.bed[0].buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(held.banks.filter(Boolean)).toHaveLength(1);
    expect(reads.every((file) => file.includes('/banks/wind/'))).toBe(true);
    held.release();
  });

  it('reads a file that two styles share once, and the second song of a style reads nothing', async () => {
    const { reader, reads } = countingReader();
    const banks = await cache(reader);
    const first = await banks.acquire(weights({ rain: 0.5, thunderstorm: 0.5 }));
    // A recording both beds name is one array, wherever it stands in each.
    const shared = manifest.styles[index('rain')].bank!.bed.find((file) => manifest.styles[index('thunderstorm')].bank!.bed.includes(file))!;
    const at = (id: string) => manifest.styles[index(id)].bank!.bed.indexOf(shared);
    expect(first.banks[index('rain')]!.bed[at('rain')]).toBe(first.banks[index('thunderstorm')]!.bed[at('thunderstorm')]);
    const count = reads.length;
    expect(new Set(reads).size).toBe(count);
    const second = await banks.acquire(weights({ rain: 1 }));
    expect(reads).toHaveLength(count);
    first.release();
    second.release();
  });

  it('lets a bank go once no song has used it for a while, and reads it again from its cache for the next', async () => {
    const { reader, reads } = countingReader();
    const banks = await cache(reader, 50);
    const held = await banks.acquire(weights({ vinyl: 1 }));
    const count = reads.length;
    held.release();
    held.release();
    expect(banks.heldFiles).toBe(count);
    await sleep(120);
    expect(banks.heldFiles).toBe(0);
    const again = await banks.acquire(weights({ vinyl: 1 }));
    expect(banks.heldFiles).toBe(count);
    // From its cache: the FLAC is not decoded a second time.
    expect(reads).toHaveLength(count);
    expect(again.banks[index('vinyl')]!.bed[0]).toEqual(await reader.read(reads[0], 44100));
    again.release();
  });

  it('keeps a bank that a song still holds, however long ago another let it go', async () => {
    const { reader } = countingReader();
    const banks = await cache(reader, 20);
    const long = await banks.acquire(weights({ fire: 1 }));
    (await banks.acquire(weights({ fire: 1 }))).release();
    await sleep(80);
    expect(banks.heldFiles).toBeGreaterThan(0);
    long.release();
  });

  it('fails a song whose recording cannot be read, keeps nothing of it, and tries again for the next', async () => {
    let broken = true;
    const { reader, reads } = countingReader((file) => broken && file.includes('wavecrash'));
    const banks = await cache(reader);
    await expect(banks.acquire(weights({ 'sea-waves': 1 }))).rejects.toThrow(/wavecrash/);
    broken = false;
    const before = reads.length;
    (await banks.acquire(weights({ 'sea-waves': 1 }))).release();
    expect(reads.slice(before).some((file) => file.includes('wavecrash'))).toBe(true);
  });

  it('decodes every recording at start into its cache and keeps none in memory; songs then read the cache', async () => {
    const { reader, reads } = countingReader();
    const dir = await cacheDir();
    const banks = new BankCache(manifest, reader, dirOf(dir), 50);
    await banks.check();
    const files = new Set(manifest.styles.flatMap((style) => (style.bank ? [...style.bank.bed, ...style.bank.events] : [])));
    expect(new Set(reads.map((file) => path.relative(manifest.modelsDir, file)))).toEqual(files);
    expect(banks.heldFiles).toBe(0);
    expect((await readdir(dir)).filter((name) => name.endsWith('.s16'))).toHaveLength(files.size);
    const count = reads.length;
    const held = await banks.acquire(weights({ thunderstorm: 1 }));
    expect(reads).toHaveLength(count);
    expect(held.banks[index('thunderstorm')]!.bed[0]).toEqual(await reader.read(path.resolve(manifest.modelsDir, manifest.styles[index('thunderstorm')].bank!.bed[0]), 44100));
    held.release();
  });

  it('decodes a recording again when its cached copy has gone (a tmp cleaner)', async () => {
    const { reader, reads } = countingReader();
    const dir = await cacheDir();
    const banks = new BankCache(manifest, reader, dirOf(dir), 50);
    await banks.check();
    await rm(dir, { recursive: true, force: true });
    const count = reads.length;
    (await banks.acquire(weights({ vinyl: 1 }))).release();
    expect(reads.length).toBeGreaterThan(count);
  });
});
