import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryParser, fixtureDir, makeClip } from './helpers/audio.js';
import { ebur128 } from './helpers/ebur128.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let clip: string;
beforeAll(async () => {
  server = await startTestServer();
  clip = await makeClip({ seconds: 8, sampleRate: 44100, channels: 2, extension: 'wav' });
});
afterAll(async () => {
  await server?.close();
});

/** Runs a job to its end and downloads its result in `format` to a file the meter can read. */
async function enrichTo(fields: Record<string, string>, format = 'wav') {
  const created = await request(server.app).post('/api/jobs').attach('audio', clip).field({ style: 'rain', seed: '5', amount: '0.6', ...fields });
  expect(created.status).toBe(202);
  const job = await server.jobs.settled(created.body.id as string);
  expect(job.status).toBe('done');
  const view = await request(server.app).get(`/api/jobs/${job.id}`);
  const download = await request(server.app).get(`/api/jobs/${job.id}/result?format=${format}`).buffer(true).parse(binaryParser);
  expect(download.status).toBe(200);
  const file = path.join(await fixtureDir(), `loudness-${job.id}.${format}`);
  await writeFile(file, download.body as Buffer);
  return { id: job.id, view: view.body, file };
}

describe('loudness targets, measured by ffmpeg ebur128', () => {
  it.each([
    ['streaming', -14],
    ['broadcast', -23],
    ['loud', -8],
  ])('brings the result to the %s target (%d LUFS) within 1 LU, true peak ≤ −1 dBTP', async (_name, target) => {
    const { view, file } = await enrichTo({ loudness: String(target) });
    const measured = await ebur128(file);
    expect(Math.abs(measured.integrated - target)).toBeLessThanOrEqual(1);
    expect(measured.truePeak).toBeLessThanOrEqual(-1);
    // The job reports what it measured, and its meter agrees with ffmpeg's.
    const report = view.output.loudness;
    expect(view.params.loudness).toBe(target);
    expect(report.target).toBe(target);
    expect(Math.abs(report.result.integrated - measured.integrated)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(report.result.truePeak - measured.truePeak)).toBeLessThanOrEqual(0.3);
    const input = await ebur128(clip);
    expect(Math.abs(report.input.integrated - input.integrated)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(report.input.truePeak - input.truePeak)).toBeLessThanOrEqual(0.3);
  });

  it('keeps the input’s loudness with "match", in flac too', async () => {
    const input = await ebur128(clip);
    const as = await enrichTo({ amount: '1' }, 'wav');
    const matched = await enrichTo({ amount: '1', loudness: 'match' }, 'flac');
    const made = await ebur128(as.file);
    const result = await ebur128(matched.file);
    // The enriched song as made is louder than its input: the match is the levelling's doing.
    expect(made.integrated - input.integrated).toBeGreaterThan(1);
    expect(Math.abs(result.integrated - input.integrated)).toBeLessThanOrEqual(1);
    expect(result.truePeak).toBeLessThanOrEqual(-1);
    expect(matched.view.output.loudness.target).toBeCloseTo(input.integrated, 0);
    expect(as.view.output.loudness).toBeUndefined();
    const recipe = await request(server.app).get(`/api/jobs/${matched.id}/recipe`);
    expect(recipe.body.loudness).toBe('match');
  });

  it.each(['-40', '0', 'loud', '-14dB'])('refuses loudness=%s with a 400 naming the field, leaving nothing behind', async (value) => {
    const res = await request(server.app).post('/api/jobs').attach('audio', clip).field({ loudness: value });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_PARAMETER');
    expect(res.body.error.message).toContain('loudness');
    expect((await server.dataFiles()).filter((f) => f.startsWith('uploads/'))).toEqual([]);
  });
});
