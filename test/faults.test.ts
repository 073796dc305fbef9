import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { AudioCodec } from '../node_app/server/adapters/media/audio-codec.js';
import { FileStore } from '../node_app/server/adapters/storage/file-store.js';
import { makeClip } from './helpers/audio.js';
import { faultyFfmpeg } from './helpers/corpus.js';
import { multipartBody, rawRequest, requestHead } from './helpers/raw-http.js';
import { startTestServer, type TestOverrides, type TestServer } from './helpers/server.js';

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function start(env: Record<string, string> = {}, overrides: TestOverrides = {}): Promise<TestServer> {
  server = await startTestServer(env, overrides);
  return server;
}

function errorCode(res: request.Response) {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body.error.message).toEqual(expect.any(String));
  return { status: res.status, code: res.body.error.code as string };
}

const mp3 = () => makeClip({ seconds: 2, sampleRate: 44100, channels: 1, extension: 'mp3', codec: ['-c:a', 'libmp3lame'] });

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
}

describe('rate limiting per client IP', () => {
  const tinyWav = () => makeClip({ seconds: 0.2, sampleRate: 8000, channels: 1, extension: 'wav' });

  it.each([
    ['on Heroku (DYNO set)', { DYNO: 'web.1' }],
    ['behind a proxy named by TRUST_PROXY', { TRUST_PROXY: 'loopback' }],
  ])('%s: answers 429 RATE_LIMITED past the limit, per address behind the proxy, and only on work taken on', async (_where, env) => {
    const { app } = await start({ RATE_LIMIT_PER_MIN: '3', ...env });
    const clip = await tinyWav();
    const job = (ip: string) => request(app).post('/api/jobs').set('X-Forwarded-For', ip).attach('audio', clip);
    // Mistakes a person corrects as they go are not counted: five refusals leave all three jobs to them.
    for (let i = 0; i < 5; i++) {
      expect((await request(app).post('/api/enrich').set('X-Forwarded-For', '203.0.113.7').field('amount', 'abc')).body.error.code).toBe('INVALID_PARAMETER');
    }
    for (let i = 0; i < 3; i++) expect((await job('203.0.113.7')).status).toBe(202);
    const limited = await job('203.0.113.7');
    expect(errorCode(limited)).toEqual({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await request(app).post('/api/enrich').set('X-Forwarded-For', '203.0.113.7')).status).toBe(429);

    // Another client behind the same router is not punished for the first one.
    expect((await job('198.51.100.9')).status).toBe(202);
    // Reading is never limited.
    expect((await request(app).get('/api/styles').set('X-Forwarded-For', '203.0.113.7')).status).toBe(200);
    expect((await request(app).get('/healthz').set('X-Forwarded-For', '203.0.113.7')).status).toBe(200);
  });

  it.each([
    ['with no proxy configured', {}],
    ['with TRUST_PROXY=0 on a dyno', { DYNO: 'web.1', TRUST_PROXY: '0' }],
  ])('%s, a client that names a new address in X-Forwarded-For on every request is still limited', async (_where, env) => {
    const { app } = await start({ RATE_LIMIT_PER_MIN: '3', ...env });
    const clip = await tinyWav();
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) statuses.push((await request(app).post('/api/jobs').set('X-Forwarded-For', `198.51.100.${i}`).attach('audio', clip)).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
  });
});

describe('ffmpeg killed or hanging', () => {
  it.each([
    ['hangs while decoding', 415, 'DECODE_TIMEOUT', 'hang', 'decode'],
    ['hangs from the start', 415, 'DECODE_TIMEOUT', 'hang', 'always'],
    ['is killed while decoding', 503, 'DECODER_FAILED', 'die', 'decode'],
    ['is killed at once', 503, 'DECODER_FAILED', 'die', 'always'],
    // The same file would crash it again: a 503 would invite endless retries of it.
    ['crashes (SIGSEGV) while decoding', 415, 'UNDECODABLE', 'crash', 'decode'],
    ['crashes (SIGSEGV) while probing', 415, 'UNDECODABLE', 'crash', 'always'],
  ] as const)('when ffmpeg %s: %i %s within the timeout, no files left, server up', async (_name, status, code, fault, when) => {
    const clip = await mp3();
    const ffmpeg = await faultyFfmpeg(`ffmpeg-${fault}-${when}.sh`, fault, when);
    const { app, dataFiles } = await start({ FFMPEG_PATH: ffmpeg, FFMPEG_TIMEOUT_S: '1.5' });
    const started = Date.now();
    const res = await request(app).post('/api/enrich').attach('audio', clip);
    expect(errorCode(res)).toEqual({ status, code });
    expect(res.headers['retry-after'] === undefined).toBe(status === 415);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(await dataFiles()).toEqual([]);
    expect((await request(app).get('/healthz')).status).toBe(200);
    // WAV never needs ffmpeg, so the server still enriches it.
    const wav = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    expect((await request(app).post('/api/enrich').attach('audio', wav)).status).toBe(200);
  });
});

describe('uploads that take too long or fill the disk', () => {
  async function listen(app: http.RequestListener): Promise<{ port: number; close(): void }> {
    const listener = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => listener.once('listening', resolve));
    return { port: (listener.address() as AddressInfo).port, close: () => listener.close() };
  }

  it('a trickle that never stalls is cut at UPLOAD_TIMEOUT_S: 408 UPLOAD_TIMEOUT, partial file deleted', async () => {
    const { app, dataFiles } = await start({ UPLOAD_TIMEOUT_S: '2', UPLOAD_IDLE_TIMEOUT_S: '1' });
    const { port, close } = await listen(app);
    try {
      const body = multipartBody('slowB', [{ name: 'audio', filename: 'slow.wav', content: Buffer.alloc(100_000, 1) }]);
      const exchange = rawRequest(port, requestHead('/api/enrich', 'slowB', body.length), body.subarray(0, 1000));
      const started = Date.now();
      // A few bytes every 200 ms: never idle for the 1 s idle limit.
      for (let at = 1000; !exchange.socket.destroyed && at < body.length && Date.now() - started < 6000; at += 50) {
        exchange.socket.write(body.subarray(at, at + 50));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await exchange.closed;
      expect(exchange.received()).toMatch(/^HTTP\/1\.1 408/);
      expect(exchange.received()).toContain('"code":"UPLOAD_TIMEOUT"');
      expect(Date.now() - started).toBeLessThan(4000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await dataFiles()).toEqual([]);
    } finally {
      close();
    }
  });

  it('the disk filling up during an upload: 507 DISK_FULL before the rest is read, partial file deleted', async () => {
    let free = 10 * 1024 * 1024 * 1024;
    class ShrinkingDisk extends FileStore {
      override async freeBytes(): Promise<number> {
        return free;
      }
    }
    const { app, dataFiles } = await start({}, { files: (dir) => new ShrinkingDisk(dir) });
    const { port, close } = await listen(app);
    try {
      const body = multipartBody('fullB', [{ name: 'audio', filename: 'big.wav', content: Buffer.alloc(30 * 1024 * 1024, 1) }]);
      const exchange = rawRequest(port, requestHead('/api/enrich', 'fullB', body.length), body.subarray(0, 1024 * 1024));
      free = 1024;
      let sent = 1024 * 1024;
      while (!exchange.received() && !exchange.socket.destroyed && sent < body.length) {
        exchange.socket.write(body.subarray(sent, sent + 256 * 1024));
        sent += 256 * 1024;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const answer = await exchange.head(3000);
      expect(answer).toMatch(/^HTTP\/1\.1 507/);
      expect(answer).toContain('"code":"DISK_FULL"');
      expect(sent).toBeLessThan(body.length / 2);
      await exchange.closed;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await dataFiles()).toEqual([]);
    } finally {
      close();
    }
  });
});

describe('no ffmpeg at all', () => {
  it('decodes and encodes answer 503 FFMPEG_UNAVAILABLE with Retry-After, WAV still works, nothing left behind', async () => {
    const { app, dataFiles } = await start({ FFMPEG_PATH: '/nonexistent/ffmpeg' });
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', message: expect.stringMatching(/ffmpeg/), checks: { models: 'ok', dataDir: 'ok' } });
    const decode = await request(app).post('/api/enrich').attach('audio', await mp3());
    expect(errorCode(decode)).toEqual({ status: 503, code: 'FFMPEG_UNAVAILABLE' });
    expect(decode.headers['retry-after']).toBeDefined();

    const wav = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    const created = await request(app).post('/api/jobs').attach('audio', wav);
    await server!.jobs.settled(created.body.id as string);
    const encode = await request(app).get(`/api/jobs/${created.body.id as string}/result?format=mp3`);
    expect(errorCode(encode)).toEqual({ status: 503, code: 'FFMPEG_UNAVAILABLE' });
    expect((await request(app).get(`/api/jobs/${created.body.id as string}/result?format=wav`)).status).toBe(200);
    // No listening copy of the original can be made: said so, not served empty.
    expect(errorCode(await request(app).get(`/api/jobs/${created.body.id as string}/original`))).toEqual({ status: 503, code: 'FFMPEG_UNAVAILABLE' });
    expect((await dataFiles()).filter((f) => !/\/(input|peaks\.json|result\.wav)$/.test(f))).toEqual([]);
  });
});

describe('readiness checks what a job needs', () => {
  it.each([
    ['the whole data dir', ''],
    ['its uploads folder', 'uploads'],
  ])('ready with models, ffmpeg and a writable data dir; %s removed at run time is made again', async (_name, folder) => {
    const { app, config, dataFiles } = await start();
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ models: 'ok', ffmpeg: 'ok', dataDir: 'ok' });

    // A tmp cleaner deletes it under the running server: the next upload puts it back.
    await rm(path.join(config.dataDir, folder), { recursive: true, force: true });
    const wav = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    expect((await request(app).post('/api/enrich').attach('audio', wav)).status).toBe(200);
    const id = (await request(app).post('/api/jobs').attach('audio', wav)).body.id as string;
    await server!.jobs.settled(id);
    expect((await request(app).get(`/api/jobs/${id}/result?format=mp3`)).status).toBe(200);
    await request(app).delete(`/api/jobs/${id}`);
    expect(await dataFiles()).toEqual([]);
  });

  it('while the data dir cannot be written: /readyz 503 naming it, uploads 503 STORAGE_UNAVAILABLE, nothing crashes; ready again once it can', async () => {
    const { app, config } = await start();
    // Something that is not a folder where the data dir should be: no folder can be made there.
    await rm(config.dataDir, { recursive: true, force: true });
    await writeFile(config.dataDir, 'not a folder');
    const blocked = await request(app).get('/readyz');
    expect(blocked.status).toBe(503);
    expect(blocked.headers['retry-after']).toBeDefined();
    expect(blocked.body).toMatchObject({ status: 'unavailable', message: expect.stringMatching(/data dir/), checks: { ffmpeg: 'ok' } });
    const wav = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    const refused = await request(app).post('/api/enrich').attach('audio', wav);
    expect(errorCode(refused)).toEqual({ status: 503, code: 'STORAGE_UNAVAILABLE' });
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await request(app).get('/healthz')).status).toBe(200);

    await rm(config.dataDir, { force: true });
    // Readiness is cached for 5 s, so polling it never costs more than one ffmpeg run per 5 s.
    await new Promise((resolve) => setTimeout(resolve, 5100));
    expect((await request(app).get('/readyz')).status).toBe(200);
    expect((await request(app).post('/api/enrich').attach('audio', wav)).status).toBe(200);
  });
});

describe('models missing or corrupt at start', () => {
  it.each([
    ['the model file is missing', async (dir: string) => copyFile(path.resolve('models/manifest.json'), path.join(dir, 'manifest.json'))],
    [
      'the model file is corrupt',
      async (dir: string) => {
        await copyFile(path.resolve('models/manifest.json'), path.join(dir, 'manifest.json'));
        const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { model: { file: string } };
        await writeFile(path.join(dir, manifest.model.file), Buffer.from('this is not an ONNX graph'.repeat(100)));
      },
    ],
    ['the manifest is not JSON', async (dir: string) => writeFile(path.join(dir, 'manifest.json'), '{ "version": ')],
    ['the models folder is empty', async () => undefined],
  ])('%s: /readyz says so, the API answers 503 MODELS_UNAVAILABLE, nothing crashes', async (_name, prepare) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'enricher-models-'));
    await prepare(dir);
    const { app, dataFiles } = await start({ MODELS_DIR: dir });

    expect((await request(app).get('/healthz')).status).toBe(200);
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'failed', message: expect.any(String) });
    expect(errorCode(await request(app).get('/api/styles'))).toEqual({ status: 503, code: 'MODELS_UNAVAILABLE' });
    const res = await request(app).post('/api/enrich').attach('audio', await mp3());
    expect(errorCode(res)).toEqual({ status: 503, code: 'MODELS_UNAVAILABLE' });
    expect(res.headers['retry-after']).toBeDefined();
    expect(await dataFiles()).toEqual([]);
  });
});

describe('a full disk', () => {
  class FullDisk extends FileStore {
    override async freeBytes(): Promise<number> {
      return 10 * 1024;
    }
  }
  class FailingMkdir extends FileStore {
    override async createJobDir(): Promise<string> {
      throw enospc();
    }
  }
  const failingWrite = (real: AudioCodec): AudioCodec => ({ ...real, writeWav: async () => Promise.reject(enospc()) });

  it('ENOSPC while encoding a download: 507 DISK_FULL with Retry-After, the wav still served', async () => {
    // The real ffmpeg, writing where every write fails with ENOSPC.
    // Only the flac download's: the job's own listening copies (mp3) are encoded with the same call.
    const intoFullDisk = (real: AudioCodec): AudioCodec => ({ ...real, transcode: (master, format, output, signal) => real.transcode(master, format, format === 'flac' ? '/dev/full' : output, signal) });
    const { app, dataFiles } = await start({}, { codec: intoFullDisk });
    const wav = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    const id = (await request(app).post('/api/jobs').attach('audio', wav)).body.id as string;
    await server!.jobs.settled(id);
    const res = await request(app).get(`/api/jobs/${id}/result?format=flac`);
    expect(errorCode(res)).toEqual({ status: 507, code: 'DISK_FULL' });
    expect(res.headers['retry-after']).toBeDefined();
    // The listening copies, made after the job was done, are stored (a request for each waits for it).
    expect((await request(app).get(`/api/jobs/${id}/original`)).status).toBe(200);
    expect((await request(app).get(`/api/jobs/${id}/result?format=mp3`)).status).toBe(200);
    expect(await dataFiles()).toEqual([`jobs/${id}/input`, `jobs/${id}/original.mp3`, `jobs/${id}/peaks.json`, `jobs/${id}/result.mp3`, `jobs/${id}/result.wav`]);
    expect((await request(app).get(`/api/jobs/${id}/result?format=wav`)).status).toBe(200);
  });

  it.each<[string, TestOverrides]>([
    ['free space below the reserve', { files: (dir) => new FullDisk(dir) }],
    ['ENOSPC creating the job folder', { files: (dir) => new FailingMkdir(dir) }],
    ['ENOSPC writing the result', { codec: failingWrite }],
  ])('%s: 507 DISK_FULL, nothing left behind, the server stays up', async (_name, overrides) => {
    const { app, dataFiles } = await start({}, overrides);
    const wav = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    const res = await request(app).post('/api/enrich').attach('audio', wav);
    expect(errorCode(res)).toEqual({ status: 507, code: 'DISK_FULL' });
    expect(res.headers['retry-after']).toBeDefined();
    expect(await dataFiles()).toEqual([]);
    expect((await request(app).get('/healthz')).status).toBe(200);
  });
});
