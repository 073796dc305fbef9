import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest } from './manifest.js';

describe('loadManifest', () => {
  it('refuses a style that credits a recording without naming its licence', async () => {
    const manifest = JSON.parse(await readFile(path.resolve('models/manifest.json'), 'utf8')) as { styles: Array<{ id: string; credit?: string; license?: string }> };
    const rain = manifest.styles.find((style) => style.id === 'rain')!;
    expect(rain.license).toBe('CC-BY-SA-3.0');
    delete rain.license;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'enricher-manifest-'));
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    await expect(loadManifest(dir)).rejects.toThrow(/style "rain" credits a recording but names no license/);
  });
});
