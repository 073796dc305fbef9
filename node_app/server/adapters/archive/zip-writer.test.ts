import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32, zipStream, type ZipEntry } from './zip-writer.js';

const run = promisify(execFile);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'zip-writer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file read in small, uneven chunks, as a stream from the disk or S3 arrives. */
function chunked(bytes: Buffer): () => Promise<Readable> {
  return async () => Readable.from((function* () {
    for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 7) % 65_521 || 1) yield bytes.subarray(at, at + step);
  })());
}

/** What Python's zipfile reads from the archive: each entry's name, CRC and bytes (as hex), after its own CRC check. */
async function readWithPython(file: string): Promise<{ name: string; crc: number; data: string; flags: number }[]> {
  const script = [
    'import json, sys, zipfile',
    'with zipfile.ZipFile(sys.argv[1]) as z:',
    '    assert z.testzip() is None',
    '    print(json.dumps([{"name": i.filename, "crc": i.CRC, "flags": i.flag_bits, "data": z.read(i).hex()} for i in z.infolist()]))',
  ].join('\n');
  const { stdout } = await run('/usr/bin/python3', ['-c', script, file], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as { name: string; crc: number; data: string; flags: number }[];
}

describe('the store-only zip writer', () => {
  it('counts CRC-32 as zip does', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('writes an archive that unzip -t and Python’s zipfile open, with every byte, name and CRC as put in', async () => {
    const big = randomBytes(1_500_000);
    const text = Buffer.from('{"album": true}\n');
    const entries: ZipEntry[] = [
      { name: 'recipe.json', modified: new Date(2026, 11, 5, 10, 30, 12), open: chunked(text) },
      { name: 'Café – Ünïcode 🎵.rain.enriched.wav', modified: new Date(), open: chunked(big) },
      { name: 'empty.txt', modified: new Date(), open: chunked(Buffer.alloc(0)) },
    ];
    const file = path.join(dir, 'album.zip');
    await pipeline(zipStream(entries), createWriteStream(file));

    const tested = await run('/usr/bin/unzip', ['-t', file]);
    expect(tested.stdout).toContain('No errors detected');

    const read = await readWithPython(file);
    expect(read.map((entry) => entry.name)).toEqual(entries.map((entry) => entry.name));
    expect(read[0].data).toBe(text.toString('hex'));
    expect(read[1].data).toBe(big.toString('hex'));
    expect(read[1].crc).toBe(crc32(big));
    expect(read[2].data).toBe('');
    // UTF-8 names (bit 11) and the sizes after the data (bit 3).
    for (const entry of read) expect(entry.flags & 0x0808).toBe(0x0808);
  });

  it('fails the stream when a file cannot be read, instead of ending an archive that lacks it', async () => {
    const entries: ZipEntry[] = [
      { name: 'a.wav', modified: new Date(), open: chunked(Buffer.from('abc')) },
      { name: 'b.wav', modified: new Date(), open: async () => Promise.reject(new Error('gone')) },
    ];
    await expect(pipeline(zipStream(entries), createWriteStream(path.join(dir, 'broken.zip')))).rejects.toThrow('gone');
  });
});
