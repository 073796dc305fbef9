import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryParser, makeClip, readWavBytes } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let listener: http.Server;
let base: string;
beforeAll(async () => {
  server = await startTestServer();
  listener = http.createServer(server.app).listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
});
afterAll(async () => {
  listener.close();
  await server.close();
});

/** Reads a job's Server-Sent Events until the stream ends. */
async function collectEvents(id: string): Promise<Array<{ status: string; progress: number }>> {
  const response = await fetch(`${base}/api/jobs/${id}/events`);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)));
}

describe('jobs API', () => {
  it('runs a job with progress events, then serves result, input and recipe until deleted', async () => {
    const file = await makeClip({ seconds: 6, sampleRate: 44100, channels: 2, extension: 'wav' });
    const created = await request(server.app).post('/api/jobs').attach('audio', file).field({ style: 'vinyl', seed: '99', format: 'mp3' });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: expect.stringMatching(/queued|running/), params: { style: 'vinyl', seed: 99, amount: 0.5 } });
    const id = created.body.id as string;

    const events = await collectEvents(id);
    expect(events.at(-1)).toMatchObject({ status: 'done', progress: 1 });
    const progress = events.map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(events.some((e) => e.status === 'running' && e.progress > 0 && e.progress < 1)).toBe(true);

    const status = await request(server.app).get(`/api/jobs/${id}`);
    expect(status.body).toMatchObject({ status: 'done', output: { sampleRate: 44100, channels: 2 } });
    expect(Date.parse(status.body.expiresAt)).toBeGreaterThan(Date.now());

    const mp3 = await request(server.app).get(`/api/jobs/${id}/result`).buffer(true).parse(binaryParser);
    expect(mp3.headers['content-type']).toBe('audio/mpeg');
    const wav = await request(server.app).get(`/api/jobs/${id}/result?format=wav`).buffer(true).parse(binaryParser);
    expect(readWavBytes(wav.body as Buffer).seconds).toBeCloseTo(6, 3);

    const input = await request(server.app).get(`/api/jobs/${id}/input`).buffer(true).parse(binaryParser);
    expect((input.body as Buffer).length).toBeGreaterThan(1000);

    const recipe = await request(server.app).get(`/api/jobs/${id}/recipe`);
    expect(recipe.body).toMatchObject({ style: 'vinyl', amount: 0.5, seed: 99, format: 'mp3' });

    const liked = await request(server.app).post(`/api/jobs/${id}/feedback`).send({ rating: 'up' });
    expect(liked.body.feedback).toBe('up');

    expect((await request(server.app).delete(`/api/jobs/${id}`)).status).toBe(204);
    const gone = await request(server.app).get(`/api/jobs/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('JOB_NOT_FOUND');
  });

  it('answers 404 JSON for an id it never made', async () => {
    for (const url of ['/api/jobs/0123456789abcdef0123456789abcdef', '/api/jobs/..%2F..%2Fetc%2Fpasswd/result']) {
      const res = await request(server.app).get(url);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('JOB_NOT_FOUND');
    }
  });

  it('forgets jobs whose time is up and deletes their files', async () => {
    const file = await makeClip({ seconds: 1, sampleRate: 44100, channels: 1, extension: 'wav' });
    const created = await request(server.app).post('/api/jobs').attach('audio', file);
    await server.jobs.settled(created.body.id);
    server.advanceClock(server.config.resultTtlMs + 1000);
    expect(await server.jobs.sweep()).toBeGreaterThanOrEqual(1);
    expect((await request(server.app).get(`/api/jobs/${created.body.id}`)).status).toBe(404);
  });
});

describe('health and styles', () => {
  it('reports health, readiness and the styles from the manifest', async () => {
    expect((await request(server.app).get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await request(server.app).get('/readyz')).body.status).toBe('ready');
    const styles = await request(server.app).get('/api/styles');
    expect(styles.body.styles.length).toBeGreaterThan(0);
    for (const style of styles.body.styles) {
      const { credit, license, needsTexture, ...rest } = style as { credit?: unknown; license?: unknown; needsTexture?: unknown };
      expect(rest).toEqual({ id: expect.any(String), label: expect.any(String), kind: expect.stringMatching(/^(genre|nature|instrument|texture)$/), description: expect.any(String) });
      // Only the style made of the caller's own recording says so.
      expect(needsTexture === undefined || (needsTexture === true && (style as { id: string }).id === 'own')).toBe(true);
      // A credit always comes with its licence.
      expect(license === undefined).toBe(credit === undefined);
      if (credit !== undefined) expect([credit, license]).toEqual([expect.any(String), expect.any(String)]);
    }
  });
});
