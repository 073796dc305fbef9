import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFileUrl } from '../node_app/server/model-files.js';
import { binaryParser, makeClip } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const SCRIPT = `console.log(${JSON.stringify('the app '.repeat(400))});\n`;
const MAX_SECONDS = 20;

let server: TestServer;
let webDir: string;

beforeAll(async () => {
  // A built front end as vite.config.ts writes it: hashed assets with precompressed copies beside them.
  webDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-webdir-'));
  await mkdir(path.join(webDir, 'assets'));
  await writeFile(path.join(webDir, 'index.html'), '<!doctype html><title>The Noise Enricher</title><div id="root"></div>');
  await writeFile(path.join(webDir, 'assets/index-abc123.js'), SCRIPT);
  await writeFile(path.join(webDir, 'assets/index-abc123.js.br'), brotliCompressSync(SCRIPT));
  await writeFile(path.join(webDir, 'assets/index-abc123.js.gz'), gzipSync(SCRIPT));
  await writeFile(path.join(webDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  // DYNO as on Heroku, whose router is the proxy that reports https in X-Forwarded-Proto.
  server = await startTestServer({ WEB_DIR: webDir, MAX_DURATION_S: String(MAX_SECONDS), DYNO: 'web.1' });
});

afterAll(async () => {
  await server.close();
});

describe('serving the front end', () => {
  it('asks for https upgrades only on requests that came over https', async () => {
    const plain = await request(server.app).get('/');
    expect(plain.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    const viaRouter = await request(server.app).get('/').set('X-Forwarded-Proto', 'https');
    expect(viaRouter.headers['content-security-policy']).toContain('upgrade-insecure-requests');
    expect(viaRouter.headers['strict-transport-security']).toContain('max-age=');
  });

  it('sends the precompressed copy the browser accepts, and keeps hashed assets for a year', async () => {
    const br = await request(server.app).get('/assets/index-abc123.js').set('Accept-Encoding', 'gzip, deflate, br').buffer(true).parse(binaryParser);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers.vary).toContain('Accept-Encoding');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Number(br.headers['content-length'])).toBeLessThan(SCRIPT.length / 10);
    // supertest decodes Content-Encoding itself: the body arriving whole proves the copy is sound.
    expect((br.body as Buffer).toString()).toBe(SCRIPT);

    const gzip = await request(server.app).get('/assets/index-abc123.js').set('Accept-Encoding', 'gzip').buffer(true).parse(binaryParser);
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(Number(gzip.headers['content-length'])).toBeLessThan(SCRIPT.length / 10);
    expect((gzip.body as Buffer).toString()).toBe(SCRIPT);

    const identity = await request(server.app).get('/assets/index-abc123.js').set('Accept-Encoding', 'identity').buffer(true).parse(binaryParser);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect((identity.body as Buffer).toString()).toBe(SCRIPT);

    const favicon = await request(server.app).get('/favicon.svg');
    expect(favicon.status).toBe(200);
    expect(favicon.headers['content-type']).toContain('image/svg+xml');
    const page = await request(server.app).get('/about');
    expect(page.headers['cache-control']).toBe('no-cache');
  });

  it('serves the model and the recordings from the models folder at content-hashed URLs, and nothing else of it', async () => {
    const page = await request(server.app).get('/');
    // Cross-origin isolated, so the preview's runtime may run threads.
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cross-origin-embedder-policy']).toBe('require-corp');

    const flacBytes = await readFile('models/banks/rain/openclonk-stereorain-a.flac');
    const flacUrl = modelFileUrl('banks/rain/openclonk-stereorain-a.flac', flacBytes);
    expect(flacUrl).toMatch(/^\/models\/banks\/rain\/openclonk-stereorain-a-[0-9a-f]{12}\.flac$/);
    const flac = await request(server.app).get(flacUrl).buffer(true).parse(binaryParser);
    expect(flac.status).toBe(200);
    expect(flac.headers['content-type']).toBe('audio/flac');
    expect(flac.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Buffer.compare(flac.body as Buffer, flacBytes)).toBe(0);

    const manifest = JSON.parse(await readFile('models/manifest.json', 'utf8')) as { model: { file: string } };
    const modelBytes = await readFile(path.join('models', manifest.model.file));
    const model = await request(server.app).get(modelFileUrl(manifest.model.file, modelBytes)).set('Accept-Encoding', 'gzip').buffer(true).parse(binaryParser);
    expect(model.status).toBe(200);
    expect(model.headers['content-encoding']).toBe('gzip');
    expect(model.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Buffer.compare(model.body as Buffer, modelBytes)).toBe(0);

    // Another hash (an old build's), the same file without one, and files the manifest does not name as recordings.
    for (const other of [flacUrl.replace(/-[0-9a-f]{12}\./, '-000000000000.'), '/models/banks/rain/openclonk-stereorain-a.flac', '/models/manifest.json']) {
      const response = await request(server.app).get(other);
      expect(response.status, other).toBe(404);
      expect(response.headers['cache-control'] ?? '', other).not.toContain('immutable');
    }
  });

  it("answers unknown pages with the app's 404 page for browsers and JSON for the API", async () => {
    const page = await request(server.app).get('/no/such/page').set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(page.status).toBe(404);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('<div id="root">');
    const api = await request(server.app).get('/api/no-such-thing').set('Accept', 'text/html,*/*;q=0.8');
    expect(api.status).toBe(404);
    expect(api.body.error).toEqual({ code: 'NOT_FOUND', message: 'There is no GET /api/no-such-thing. The API is described in docs/api.md.' });
    const script = await request(server.app).get('/no/such/page');
    expect(script.status).toBe(404);
    expect(script.body.error.code).toBe('NOT_FOUND');
  });

  it('answers a path the API has, asked with the wrong method, with 405 and the methods it takes', async () => {
    const enrich = await request(server.app).get('/api/enrich');
    expect([enrich.status, enrich.headers.allow, enrich.body.error.code]).toEqual([405, 'POST', 'METHOD_NOT_ALLOWED']);
    expect(enrich.body.error.message).toBe('/api/enrich does not take GET; use POST.');
    const job = await request(server.app).put(`/api/jobs/${'0'.repeat(32)}`);
    expect([job.status, job.headers.allow]).toEqual([405, 'GET, HEAD, DELETE']);
    expect((await request(server.app).post('/api/styles')).headers.allow).toBe('GET, HEAD');
  });

  it('tells the browser the upload limits', async () => {
    const limits = await request(server.app).get('/api/limits');
    expect(limits.body).toEqual({ maxUploadBytes: server.config.maxUploadBytes, maxDurationSeconds: MAX_SECONDS, maxBatchBytes: server.config.maxBatchBytes, maxBatchFiles: 20 });
  });
});

describe('results for listening', () => {
  it('serves byte ranges of the result and the input, and peaks for both waveforms', async () => {
    const file = await makeClip({ seconds: 5, sampleRate: 44100, channels: 2, extension: 'wav' });
    const created = await request(server.app).post('/api/jobs').attach('audio', file).field({ style: 'rain', seed: '5' });
    const id = created.body.id as string;
    expect(created.body.links.peaks).toBe(`/api/jobs/${id}/peaks`);
    await server.jobs.settled(id);

    for (const url of [`/api/jobs/${id}/result?format=wav`, `/api/jobs/${id}/input`]) {
      const part = await request(server.app).get(url).set('Range', 'bytes=100-1099').buffer(true).parse(binaryParser);
      expect(part.status, url).toBe(206);
      expect(part.headers['content-range'], url).toMatch(/^bytes 100-1099\/\d+$/);
      expect((part.body as Buffer).length, url).toBe(1000);
    }

    const peaks = await request(server.app).get(`/api/jobs/${id}/peaks`);
    expect(peaks.status).toBe(200);
    expect(peaks.body.complete).toBe(true);
    expect(peaks.body.result.length).toBe(peaks.body.input.length);
    expect(peaks.body.result.length * peaks.body.secondsPerPeak).toBeCloseTo(5, 1);
    expect(Math.max(...(peaks.body.input as number[]))).toBeGreaterThan(0.3);
    expect(Math.max(...(peaks.body.result as number[]))).toBeGreaterThan(0.3);
    expect(Math.max(...(peaks.body.result as number[]))).toBeLessThanOrEqual(1);
  });

  it('refuses a file that is clearly too long before enriching any of it', async () => {
    const long = await makeClip({ seconds: MAX_SECONDS * 3, sampleRate: 8000, channels: 1, codec: ['-c:a', 'libmp3lame', '-b:a', '32k'], extension: 'mp3' });
    const created = await request(server.app).post('/api/jobs').attach('audio', long);
    const stages: string[] = [];
    const unsubscribe = server.jobs.subscribe(created.body.id as string, (job) => stages.push(job.stage));
    const job = await server.jobs.settled(created.body.id as string);
    unsubscribe();
    expect(job.error?.code).toBe('TOO_LONG');
    expect(stages).not.toContain('enriching');
  });
});
