import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryParser, fixtureDir, makeClip } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const run = promisify(execFile);

let server: TestServer;
let clip: string;
let rainCredit: string;
beforeAll(async () => {
  server = await startTestServer();
  clip = await makeClip({ seconds: 3, sampleRate: 44100, channels: 2, extension: 'wav' });
  const styles = await request(server.app).get('/api/styles');
  rainCredit = (styles.body.styles as { id: string; credit?: string }[]).find((s) => s.id === 'rain')!.credit!;
});
afterAll(async () => {
  await server?.close();
});

/** The tags of a file as Debian's ffprobe reads them (container and stream tags, keys in lower case). */
async function tagsOf(file: string): Promise<Record<string, string>> {
  const { stdout } = await run('/usr/bin/ffprobe', ['-v', 'error', '-show_entries', 'format_tags:stream_tags', '-of', 'json', file]);
  const parsed = JSON.parse(stdout) as { format?: { tags?: Record<string, string> }; streams?: { tags?: Record<string, string> }[] };
  const all = { ...parsed.format?.tags, ...Object.assign({}, ...(parsed.streams ?? []).map((s) => s.tags ?? {})) } as Record<string, string>;
  return Object.fromEntries(Object.entries(all).map(([key, value]) => [key.toLowerCase(), value]));
}

async function downloaded(id: string, query: string, extension: string): Promise<string> {
  const res = await request(server.app).get(`/api/jobs/${id}/result?${query}`).buffer(true).parse(binaryParser);
  expect(res.status).toBe(200);
  const file = path.join(await fixtureDir(), `credits-${id}-${query.replace(/\W/g, '-')}.${extension}`);
  await writeFile(file, res.body as Buffer);
  return file;
}

describe('credits and licence inside every file', () => {
  it('carries the style, amount, seed, the recordings’ credits and the CC BY-SA line in wav, mp3, flac and ogg, and in the layer', async () => {
    const created = await request(server.app).post('/api/jobs').attach('audio', clip, 'Night drive.wav').field({ style: 'rain:0.7,blues:0.3', amount: '0.4', seed: '77', format: 'ogg' });
    expect(created.status).toBe(202);
    const job = await server.jobs.settled(created.body.id as string);
    expect(job.status).toBe('done');
    const files = [
      await downloaded(job.id, 'format=wav', 'wav'),
      await downloaded(job.id, 'format=mp3', 'mp3'),
      await downloaded(job.id, 'format=flac', 'flac'),
      // The job's own format: encoded while it was enriched, from samples that carry no tags of their own.
      await downloaded(job.id, 'format=ogg', 'ogg'),
    ];
    for (const file of files) {
      const tags = await tagsOf(file);
      expect(tags.title, file).toBe('Night drive (enriched: rain:0.7,blues:0.3)');
      expect(tags.comment, file).toContain('style rain:0.7,blues:0.3, amount 0.4, seed 77');
      expect(tags.comment, file).toContain('This result is an adaptation of recordings licensed under CC BY-SA 3.0');
      expect(tags.comment, file).toContain(`Rain: ${rainCredit} (licence CC-BY-SA-3.0).`);
      expect(tags.copyright, file).toMatch(/^Adaptation under CC BY-SA 3.0/);
    }
    for (const extension of ['wav', 'mp3']) {
      const layer = await tagsOf(await downloaded(job.id, `format=${extension}&part=layer`, extension));
      expect(layer.title).toBe('Night drive (the added layer: rain:0.7,blues:0.3)');
      expect(layer.comment).toContain('seed 77');
      expect(layer.comment).toContain(rainCredit);
    }
  });

  it('says so when the styles play no one’s recordings, without claiming an adaptation', async () => {
    const created = await request(server.app).post('/api/jobs').attach('audio', clip).field({ style: 'blues', seed: '3', loudness: '-20' });
    const job = await server.jobs.settled(created.body.id as string);
    const tags = await tagsOf(await downloaded(job.id, 'format=flac', 'flac'));
    expect(tags.comment).toContain('style blues, amount 0.5, seed 3, loudness -20 LUFS.');
    expect(tags.comment).not.toContain('adaptation');
    expect(tags.copyright).toBe('No recordings of others are used.');
  });
});
