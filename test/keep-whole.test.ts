import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryParser, makeClip, readWavBytes } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// keep=whole: the whole song comes back, enriched only from start to end, and untouched around that.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

async function enrich(clip: string, fields: Record<string, string>) {
  const res = await request(server.app).post('/api/enrich').attach('audio', clip).field({ style: 'rain', seed: '3', amount: '1', ...fields }).buffer(true).parse(binaryParser);
  expect(res.status, String(res.body)).toBe(200);
  return readWavBytes(res.body as Buffer);
}

describe('keep=whole', () => {
  it('returns the whole song with only the section enriched, the same section as keep=section gives', async () => {
    const clip = await makeClip({ seconds: 6, sampleRate: 44100, channels: 2, extension: 'wav' });
    const song = readWavBytes(await readFile(clip));
    const whole = await enrich(clip, { start: '2', end: '4', keep: 'whole' });
    const section = await enrich(clip, { start: '2', end: '4' });
    expect(whole.channels).toBe(2);
    expect(whole.frames).toBe(song.frames);
    expect(section.frames).toBe(2 * 44100);
    const from = 2 * 44100;
    const to = 4 * 44100;
    // 50 ms fades at the section's edges; between them the section's own enrichment, untouched around it.
    const fade = Math.round(0.05 * 44100);
    for (let c = 0; c < 2; c++) {
      expect(whole.samples[c].subarray(0, from)).toEqual(song.samples[c].subarray(0, from));
      expect(whole.samples[c].subarray(to)).toEqual(song.samples[c].subarray(to));
      expect(whole.samples[c].subarray(from + fade, to - fade)).toEqual(section.samples[c].subarray(fade, section.frames - fade));
    }
    // The style was added: the section differs from the song.
    let changed = 0;
    for (let i = from + fade; i < to - fade; i++) if (whole.samples[0][i] !== song.samples[0][i]) changed++;
    expect(changed).toBeGreaterThan((to - from) / 2);
  });

  it('is kept in the job and its recipe, and refused for a start past the end', async () => {
    const clip = await makeClip({ seconds: 3, sampleRate: 22050, channels: 1, extension: 'wav' });
    const created = await request(server.app).post('/api/jobs').attach('audio', clip).field({ start: '1', keep: 'Whole' });
    expect(created.status).toBe(202);
    const done = await server.jobs.settled(created.body.id as string);
    expect(done.params.keep).toBe('whole');
    expect(done.output?.durationSeconds).toBe(3);
    const recipe = await request(server.app).get(`/api/jobs/${done.id}/recipe`);
    expect(recipe.body).toMatchObject({ start: 1, keep: 'whole' });

    const past = await request(server.app).post('/api/enrich').attach('audio', clip).field({ start: '5', keep: 'whole' });
    expect(past.status).toBe(400);
    expect(past.body.error.message).toMatch(/^start: /);
    const bad = await request(server.app).post('/api/enrich').attach('audio', clip).field({ start: '1', keep: 'all' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^keep: /);
  });
});
