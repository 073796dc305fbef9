import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveFfmpeg } from './ffmpeg.js';

async function folderWith(name: string, mode: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ffmpeg-lookup-'));
  await writeFile(path.join(dir, name), '#!/bin/sh\n');
  await chmod(path.join(dir, name), mode);
  return dir;
}

describe('resolveFfmpeg', () => {
  it('uses FFMPEG_PATH over everything else', async () => {
    const dir = await folderWith('ffmpeg', 0o755);
    expect(resolveFfmpeg('/opt/ffmpeg', { preferSystem: true, searchPath: dir })).toEqual({ path: '/opt/ffmpeg', source: 'FFMPEG_PATH' });
  });

  it('uses the ffmpeg on PATH when a system ffmpeg is configured (the Aptfile one on Heroku)', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'ffmpeg-lookup-'));
    const dir = await folderWith('ffmpeg', 0o755);
    const found = resolveFfmpeg(undefined, { preferSystem: true, searchPath: [empty, dir].join(path.delimiter) });
    expect(found).toEqual({ path: path.join(dir, 'ffmpeg'), source: 'system' });
  });

  it('falls back to the bundled build, with a reason to log, when no usable system ffmpeg is there', async () => {
    const dir = await folderWith('ffmpeg', 0o644);
    const found = resolveFfmpeg(undefined, { preferSystem: true, searchPath: dir });
    expect(found.source).toBe('bundled');
    expect(found.path).toContain('@ffmpeg-installer');
    expect(found.fallbackReason).toMatch(/none is on PATH/);
  });

  it('ignores the system ffmpeg unless asked, so every machine decodes with the same build by default', async () => {
    const dir = await folderWith('ffmpeg', 0o755);
    expect(resolveFfmpeg(undefined, { searchPath: dir })).toMatchObject({ source: 'bundled' });
    expect(resolveFfmpeg(undefined, { searchPath: dir }).fallbackReason).toBeUndefined();
  });
});
