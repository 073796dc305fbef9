import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bankFileReader } from '../node_app/server/adapters/inference/bank-reader.js';
import { resolveFfmpeg } from '../node_app/server/adapters/media/ffmpeg/binary.js';
import { loadManifest } from '../node_app/server/adapters/inference/manifest.js';
import { decodeFlac } from '../node_app/web/src/preview/flac.js';

const modelsDir = path.resolve('models');
const manifest = await loadManifest(modelsDir);
const files = [...new Set(manifest.styles.flatMap((s) => (s.bank ? [...s.bank.bed, ...s.bank.events] : [])))];
const hash = (pcm: Int16Array) => createHash('sha256').update(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)).digest('hex');

describe('the banks of recordings', () => {
  it('give every recorded style at least one bed clip, and thunderstorm its thunder', () => {
    const recorded = manifest.styles.filter((s) => s.bank);
    expect(recorded.map((s) => s.id)).toEqual(expect.arrayContaining(['rain', 'thunderstorm', 'sea-waves', 'wind', 'birds', 'fire']));
    expect(manifest.styles.find((s) => s.id === 'thunderstorm')?.bank?.events.length).toBeGreaterThanOrEqual(6);
  });

  it('fit with the model in 30 MB', async () => {
    const sizes = await Promise.all([manifest.modelPath, ...files.map((f) => path.resolve(modelsDir, f))].map(async (f) => (await stat(f)).size));
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30 * 1024 * 1024);
  });

  // FLAC is lossless, so every ffmpeg decodes a bank to the same samples: the model hears on every machine what
  // it was trained on, and a seed gives the same bytes on a dyno with Debian's ffmpeg as with the bundled one.
  it('decode to the same 16-bit samples with the bundled ffmpeg and the system one', async () => {
    const bundled = bankFileReader(resolveFfmpeg(undefined, { preferSystem: false }).path);
    const system = bankFileReader(resolveFfmpeg(undefined, { preferSystem: true }).path);
    for (const file of files.slice(0, 6)) {
      const full = path.resolve(modelsDir, file);
      const [a, b] = await Promise.all([bundled.read(full, manifest.sampleRate), system.read(full, manifest.sampleRate)]);
      expect(a.length, file).toBeGreaterThan(manifest.sampleRate / 100);
      expect(hash(a), file).toBe(hash(b));
    }
  });

  // At start every file goes through one ffmpeg into the cache: it must write what a file read alone gives.
  it('decode all at once into raw files with the same samples as one by one', async () => {
    const reader = bankFileReader(resolveFfmpeg(undefined, { preferSystem: false }).path);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'enricher-banks-'));
    try {
      const targets = files.map((file, index) => ({ file: path.resolve(modelsDir, file), to: path.join(dir, `${index}.s16`) }));
      await reader.readAllInto(targets, manifest.sampleRate);
      expect((await readdir(dir)).sort()).toEqual(targets.map((target) => path.basename(target.to)).sort());
      for (const { file, to } of targets.filter((_, index) => index % 10 === 0)) {
        const raw = await readFile(to);
        expect(hash(new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1)), file).toBe(hash(await reader.read(file, manifest.sampleRate)));
      }
      const missing = path.join(dir, 'missing.flac');
      await expect(reader.readAllInto([targets[0], { file: missing, to: path.join(dir, 'x.s16') }], manifest.sampleRate)).rejects.toThrow(/missing\.flac/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The browser's preview decodes the same files itself: it must hear the samples the server's model hears.
  it('decode in the browser preview to exactly the samples the server reads with ffmpeg', async () => {
    const server = bankFileReader(resolveFfmpeg(undefined, { preferSystem: false }).path);
    for (const file of files) {
      const full = path.resolve(modelsDir, file);
      const [theirs, ours] = await Promise.all([server.read(full, manifest.sampleRate), readFile(full).then((bytes) => decodeFlac(bytes))]);
      expect(ours.sampleRate, file).toBe(manifest.sampleRate);
      expect(ours.samples.length, file).toBe(theirs.length);
      expect(hash(ours.samples), file).toBe(hash(theirs));
    }
  });
});
