import { readdir, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../node_app/server/adapters/media/ffmpeg/binary.js';
import { decodeWithFfmpeg } from './helpers/pcm.js';
import { binaryParser, makeClip, probe, readWavBytes, type ToneSpec } from './helpers/audio.js';
import { emptyZip, floatSine, pngImage, renderLavfi, truncated, wavBytes, writeFixture } from './helpers/corpus.js';
import { multipartBody, rawRequest, requestHead } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Small limits, so "too large" and "too long" files stay small and the suite stays fast.
const LIMITS = { MAX_UPLOAD_MB: '1', MAX_DURATION_S: '8', UPLOAD_IDLE_TIMEOUT_S: '1' };

let server: TestServer;
let listener: http.Server;
let port: number;
beforeAll(async () => {
  server = await startTestServer(LIMITS);
  listener = http.createServer(server.app).listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  port = (listener.address() as AddressInfo).port;
});
afterAll(async () => {
  listener.close();
  await server.close();
});

function enrich(file: string, fields: Record<string, string> = {}, filename?: string) {
  let req = request(server.app).post('/api/enrich').attach('audio', file, filename ? { filename } : undefined);
  for (const [key, value] of Object.entries(fields)) req = req.field(key, value);
  return req.buffer(true).parse(binaryParser);
}

function errorOf(res: { status: number; headers: Record<string, string>; body: unknown }) {
  const body = Buffer.isBuffer(res.body) ? JSON.parse(res.body.toString('utf8')) : res.body;
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(body.error.message).toEqual(expect.any(String));
  expect(JSON.stringify(body)).not.toMatch(/\bat .+:\d+:\d+|node_modules|Error:/);
  return { status: res.status, code: body.error.code as string };
}

async function uploadsLeft(): Promise<string[]> {
  return (await server.dataFiles()).filter((f) => f.startsWith('uploads'));
}

/** Waits for a done job's listening copies, made after it is done: a request for each waits for it. */
async function listeningCopies(id: string): Promise<void> {
  expect((await request(server.app).get(`/api/jobs/${id}/original`)).status).toBe(200);
  expect((await request(server.app).get(`/api/jobs/${id}/result?format=mp3`)).status).toBe(200);
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The longest run of near-silent 100 ms blocks: a poisoned window would come out as silence. */
function longestSilenceSeconds(samples: Float64Array, sampleRate: number): number {
  const block = Math.round(sampleRate / 10);
  let longest = 0;
  let run = 0;
  for (let start = 0; start + block <= samples.length; start += block) {
    let energy = 0;
    for (let i = start; i < start + block; i++) energy += samples[i] * samples[i];
    run = Math.sqrt(energy / block) < 30 ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest / 10;
}

describe('files that are not usable audio are refused with a JSON error', () => {
  it.each([
    ['an empty file', () => writeFixture('empty.mp3', ''), 400, 'EMPTY_FILE'],
    ['a text file named .mp3', () => writeFixture('notes.mp3', 'Dear diary, today I uploaded a text file.\n'.repeat(50)), 415, 'NOT_AUDIO'],
    ['an HTML page named .mp3', () => writeFixture('page.mp3', '<!doctype html><html><body><script>alert(1)</script></body></html>'), 415, 'NOT_AUDIO'],
    ['a PNG image named .mp3', () => pngImage(), 415, 'NOT_AUDIO'],
    ['a zip archive named .mp3', () => writeFixture('archive.mp3', emptyZip()), 415, 'NOT_AUDIO'],
    ['a WAV header with no samples', () => writeFixture('zero.wav', wavBytes({ sampleRate: 44100, channels: 2, samples: new Int16Array(0) })), 415, 'NO_AUDIO'],
    ['an mp3 cut off inside its first frame', async () => truncated(await makeClip({ seconds: 2, sampleRate: 44100, channels: 2, extension: 'mp3', codec: ['-c:a', 'libmp3lame'] }), 0.002, 'stub.mp3'), 415, 'NOT_AUDIO'],
  ])('%s: %i %s', async (_name, make, status, code) => {
    const res = await enrich(await make());
    expect(errorOf(res)).toEqual({ status, code });
    expect(await uploadsLeft()).toEqual([]);
  });

  it('a file over the size limit: 413 FILE_TOO_LARGE, nothing kept', async () => {
    const big = await writeFixture('big.wav', wavBytes({ sampleRate: 44100, channels: 2, samples: new Int16Array(530_000) }));
    // Just over the limit: the announced length passes the early check, so multer's own limit has to catch it.
    expect((await stat(big)).size).toBeGreaterThan(1024 * 1024);
    expect(errorOf(await enrich(big))).toEqual({ status: 413, code: 'FILE_TOO_LARGE' });
    expect(await uploadsLeft()).toEqual([]);
  });

  it('a body announced over the size limit: 413 at once, before the body is sent', async () => {
    const boundary = 'xBOUNDARYx';
    const exchange = rawRequest(port, requestHead('/api/enrich', boundary, 500 * 1024 * 1024), Buffer.from(`--${boundary}\r\n`));
    const started = Date.now();
    // The client has sent a few bytes of its 500 MB; the answer must not wait for the rest.
    const answer = await exchange.head(3000);
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toContain('"code":"FILE_TOO_LARGE"');
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(Date.now() - started).toBeLessThan(3000);
    exchange.socket.destroy();
  });

  it('a chunked body (no Content-Length) over the size limit: 413 within 2 s of passing it, connection closed, nothing kept', async () => {
    const boundary = 'chunkB';
    const head =
      `POST /api/enrich HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
      'Transfer-Encoding: chunked\r\n\r\n';
    const chunk = (bytes: Buffer) => Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
    const partHead = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="audio"; filename="huge.wav"\r\nContent-Type: audio/wav\r\n\r\n`);
    const exchange = rawRequest(port, head, chunk(partHead));
    // The client keeps sending 64 KB chunks, as a 450 MB upload would, until the server answers or hangs up.
    const block = chunk(Buffer.alloc(64 * 1024, 1));
    let sent = 0;
    let passedAt = 0;
    while (!exchange.received() && !exchange.socket.destroyed && sent < 20 * 1024 * 1024) {
      if (!exchange.socket.write(block)) await new Promise((resolve) => setTimeout(resolve, 5));
      sent += block.length;
      if (!passedAt && sent > 1024 * 1024) passedAt = Date.now();
      if (sent % (1024 * 1024) < block.length) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const answer = await exchange.head(3000);
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toContain('"code":"FILE_TOO_LARGE"');
    expect(Date.now() - passedAt).toBeLessThan(2000);
    // The server stopped the upload instead of reading the 20 MB the client was ready to send. `sent` counts what
    // the client handed to its socket: on loopback the kernel's send and receive buffers (autotuned, several MB
    // each) hold part of it unread, more when a busy machine slows the server down, so the bound leaves room for
    // them; a server that read the whole body would let it reach 20 MB.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    await exchange.closed;
    await until(async () => (await uploadsLeft()).length === 0, 2000);
  });

  it.each<[string, ToneSpec]>([
    ['wav (decoded in process)', { seconds: 10, sampleRate: 8000, channels: 1, extension: 'wav' }],
    ['ogg (decoded by ffmpeg)', { seconds: 10, sampleRate: 22050, channels: 1, extension: 'ogg', codec: ['-c:a', 'libvorbis'] }],
  ])('audio longer than the duration limit, %s: 413 TOO_LONG', async (_name, spec) => {
    const res = await enrich(await makeClip(spec));
    expect(errorOf(res)).toEqual({ status: 413, code: 'TOO_LONG' });
    expect(res.headers['x-job-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(await server.dataFiles()).not.toContainEqual(expect.stringContaining(res.headers['x-job-id']));
  });

  it('MP3s of different rates joined end to end: the length is counted in samples, so 23 s is 413 TOO_LONG', async () => {
    // The 8 kHz part sets the clock; the 48 kHz frames after it then advance timestamps six times too fast,
    // and a limit on timestamps would stop at ~4 s of audio and answer 200 with most of the song missing.
    const slow = await readFile(await renderLavfi('part-8k.mp3', 'sine=f=300:r=8000:d=3', ['-c:a', 'libmp3lame']));
    const fast = await readFile(await renderLavfi('part-48k.mp3', 'sine=f=500:r=48000:d=20', ['-c:a', 'libmp3lame']));
    const joined = await writeFixture('joined.mp3', Buffer.concat([slow, fast]));
    const res = await enrich(joined);
    expect(errorOf(res)).toEqual({ status: 413, code: 'TOO_LONG' });
  });

  it('an hour of silence in a small FLAC: 413 TOO_LONG, decoding stopped at the limit', async () => {
    const flac = await renderLavfi('silence-1h.flac', 'anullsrc=r=8000:cl=mono', ['-t', '3600', '-c:a', 'flac']);
    expect((await stat(flac)).size).toBeLessThan(1024 * 1024);
    const res = await enrich(flac);
    expect(errorOf(res)).toEqual({ status: 413, code: 'TOO_LONG' });

    // The decoder itself hands back no more than it was allowed: an hour never reaches memory.
    const pcm = await decodeWithFfmpeg(resolveFfmpeg(process.env.FFMPEG_PATH).path, flac, { sampleRate: 8000, channels: 1, maxSeconds: 9, timeoutMs: 30_000 });
    expect(pcm.channels[0].length).toBe(9 * 8000);
  });
});

describe('the common audio containers are enriched; what names other files is refused by what it is', () => {
  it.each<[string, string, number, string[]]>([
    ['wma (asf)', 'wma', 2, ['-c:a', 'wmav2']],
    ['ac3', 'ac3', 2, ['-c:a', 'ac3']],
    ['eac3', 'eac3', 2, ['-c:a', 'eac3']],
    ['amr', 'amr', 1, ['-c:a', 'libopencore_amrnb', '-ar', '8000']],
    ['mka', 'mka', 2, ['-c:a', 'libvorbis']],
    ['3gp', '3gp', 1, ['-c:a', 'aac', '-ar', '16000']],
  ])('%s: 200, the same length and channels', async (_name, extension, channels, codec) => {
    const layout = channels === 2 ? 'stereo' : 'mono';
    const file = await renderLavfi(`common.${extension}`, `sine=f=330:r=44100:d=2,aformat=channel_layouts=${layout}`, ['-ac', String(channels), ...codec]);
    const res = await enrich(file, { seed: '1' });
    expect(res.status).toBe(200);
    const out = readWavBytes(res.body as Buffer);
    expect(out.channels).toBe(channels);
    // Frame-based codecs pad the last frame: up to one frame (AC-3's 1536 samples) more than was encoded.
    expect(out.seconds).toBeGreaterThan(1.95);
    expect(out.seconds).toBeLessThan(2.1);
  });

  it.each([
    ['an ffconcat script', () => writeFixture('list.mp3', "ffconcat version 1.0\nfile '/etc/hostname'\n"), /an ffconcat script/],
    ['an AVI file', () => renderLavfi('clip.avi', 'sine=d=1', ['-c:a', 'pcm_s16le', '-f', 'avi']), /"avi"/],
  ])('%s: 415 UNSUPPORTED_FORMAT, and the message names what the file is', async (_name, make, named) => {
    const res = await enrich(await make());
    expect(errorOf(res)).toEqual({ status: 415, code: 'UNSUPPORTED_FORMAT' });
    expect(JSON.parse((res.body as Buffer).toString('utf8')).error.message).toMatch(named);
    expect(await uploadsLeft()).toEqual([]);
  });
});

describe('odd but real audio is enriched, and the answer is sound', () => {
  it('an mp3 cut short is enriched up to where its audio stops, as a player would play it', async () => {
    const full = await makeClip({ seconds: 4, sampleRate: 44100, channels: 2, extension: 'mp3', codec: ['-c:a', 'libmp3lame'] });
    const res = await enrich(await truncated(full, 0.5, 'half.mp3'), { seed: '1' });
    expect(res.status).toBe(200);
    const out = readWavBytes(res.body as Buffer);
    expect(out.seconds).toBeGreaterThan(1.5);
    expect(out.seconds).toBeLessThan(2.5);
  });

  it('a WAV cut short is enriched up to where its samples stop', async () => {
    const full = await makeClip({ seconds: 3, sampleRate: 44100, channels: 2, extension: 'wav' });
    const res = await enrich(await truncated(full, 0.5, 'half.wav'), { seed: '1' });
    expect(res.status).toBe(200);
    expect(readWavBytes(res.body as Buffer).seconds).toBeCloseTo(1.5, 2);
  });

  it('a WAV header that declares 2 GB over 1 s of samples: the second that is there, nothing more', async () => {
    const samples = new Int16Array(44100).map((_, i) => Math.round(8000 * Math.sin(i / 10)));
    const liar = await writeFixture('liar.wav', wavBytes({ sampleRate: 44100, channels: 1, samples, declaredDataBytes: 0x7ffffff0 }));
    const res = await enrich(liar, { seed: '1' });
    expect(res.status).toBe(200);
    const out = readWavBytes(res.body as Buffer);
    expect(out.frames).toBe(44100);
  });

  it('a WAV of a single sample gives back a single sample', async () => {
    const one = await writeFixture('one.wav', wavBytes({ sampleRate: 44100, channels: 1, samples: new Int16Array([12000]) }));
    const res = await enrich(one, { seed: '1' });
    expect(res.status).toBe(200);
    expect(readWavBytes(res.body as Buffer).frames).toBe(1);
  });

  it('8 channels are mixed down to stereo, same duration', async () => {
    const eight = await renderLavfi('eight.wav', 'sine=f=440:r=48000:d=1', ['-af', 'pan=7.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0|c6=c0|c7=c0']);
    expect((await probe(eight)).channels).toBe(8);
    const res = await enrich(eight, { seed: '1' });
    expect(res.status).toBe(200);
    const out = readWavBytes(res.body as Buffer);
    expect(out.channels).toBe(2);
    expect(out.seconds).toBeCloseTo(1, 3);
  });

  it.each([9, 64])('%i channels without a named layout are mixed down to stereo, same duration', async (count) => {
    // Half a second at 8 kHz keeps 64 channels under the 1 MB upload limit here.
    const frames = 4000;
    const samples = new Int16Array(frames * count);
    for (let i = 0; i < frames; i++) for (let c = 0; c < count; c++) samples[i * count + c] = Math.round(6000 * Math.sin((i * (c + 1)) / 40));
    const many = await writeFixture(`channels-${count}.wav`, wavBytes({ sampleRate: 8000, channels: count, samples }));
    const res = await enrich(many, { seed: '1' });
    expect(res.status).toBe(200);
    const out = readWavBytes(res.body as Buffer);
    expect(out.channels).toBe(2);
    expect(out.seconds).toBeCloseTo(0.5, 3);
    expect(longestSilenceSeconds(out.samples[0], out.sampleRate)).toBe(0);
  });

  it('a WAV whose header says 0 data bytes (a streaming writer) is read to the end of the file', async () => {
    const samples = new Int16Array(44100).map((_, i) => Math.round(8000 * Math.sin(i / 10)));
    const streamed = await writeFixture('streamed.wav', wavBytes({ sampleRate: 44100, channels: 1, samples, declaredDataBytes: 0 }));
    const res = await enrich(streamed, { seed: '1' });
    expect(res.status).toBe(200);
    expect(readWavBytes(res.body as Buffer).frames).toBe(44100);
  });

  it.each([
    ['wav', { seconds: 2, sampleRate: 22050, channels: 1, extension: 'wav' }],
    ['mp3', { seconds: 2, sampleRate: 22050, channels: 1, extension: 'mp3', codec: ['-c:a', 'libmp3lame'] }],
  ] as Array<[string, ToneSpec]>)('start past the end of a %s: 400 INVALID_PARAMETER naming start', async (_name, spec) => {
    const res = await enrich(await makeClip(spec), { start: '5' });
    expect(errorOf(res)).toEqual({ status: 400, code: 'INVALID_PARAMETER' });
    expect(JSON.parse((res.body as Buffer).toString('utf8')).error.message).toMatch(/^start: .*past the end/);
  });

  it.each([
    [{ end: '0.0000005' }],
    [{ start: '1', end: '1.05' }],
  ])('a section shorter than 0.1 s, %o: 400 INVALID_PARAMETER naming start and end, nothing kept', async (fields) => {
    const mp3 = await makeClip({ seconds: 2, sampleRate: 22050, channels: 1, extension: 'mp3', codec: ['-c:a', 'libmp3lame'] });
    const res = await enrich(mp3, fields);
    expect(errorOf(res)).toEqual({ status: 400, code: 'INVALID_PARAMETER' });
    expect(JSON.parse((res.body as Buffer).toString('utf8')).error.message).toMatch(/^end: .*0\.1 s after start/);
    expect(await uploadsLeft()).toEqual([]);
  });

  it.each([
    ['1e-7', '2', 200],
    ['0.5', '1.5e0', 200],
  ])('start %s and end %s written in exponent form reach ffmpeg as plain decimals', async (start, end, status) => {
    const mp3 = await makeClip({ seconds: 2, sampleRate: 22050, channels: 1, extension: 'mp3', codec: ['-c:a', 'libmp3lame'] });
    const res = await enrich(mp3, { start, end, seed: '1' });
    expect(res.status).toBe(status);
    expect(readWavBytes(res.body as Buffer).seconds).toBeCloseTo(Number(end) - Number(start), 1);
  });

  it.each([
    [8000, 8000],
    [192000, 48000],
  ])('a %i Hz WAV comes back at %i Hz with the same duration', async (rate, expected) => {
    const clip = await makeClip({ seconds: 1, sampleRate: rate, channels: 2, extension: 'wav' });
    const res = await enrich(clip, { seed: '1' });
    expect(res.status).toBe(200);
    const out = readWavBytes(res.body as Buffer);
    expect(out.sampleRate).toBe(expected);
    expect(out.seconds).toBeCloseTo(1, 3);
  });

  it('a float WAV full of NaN and Infinity is sanitised: audible throughout, never clipped', async () => {
    const poisoned = await writeFixture('nan.wav', wavBytes({ sampleRate: 44100, channels: 1, samples: floatSine(44100, 3, true) }));
    const res = await enrich(poisoned, { seed: '5', amount: '0.7' });
    expect(res.status).toBe(200);
    const out = readWavBytes(res.body as Buffer);
    expect(out.seconds).toBeCloseTo(3, 3);
    expect(longestSilenceSeconds(out.samples[0], out.sampleRate)).toBe(0);
    expect(out.samples[0].reduce((peak, x) => Math.max(peak, Math.abs(x)), 0)).toBeLessThan(32767);
  });
});

describe('requests that are put together wrong get a 400 that says what to fix', () => {
  let clip: string;
  beforeAll(async () => {
    clip = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
  });

  it('no audio field: 400 MISSING_AUDIO', async () => {
    expect(errorOf(await request(server.app).post('/api/enrich').field('style', 'rain'))).toEqual({ status: 400, code: 'MISSING_AUDIO' });
  });

  it('two files: 400 UNEXPECTED_FILE, neither kept', async () => {
    const res = await request(server.app).post('/api/enrich').attach('audio', clip).attach('audio', clip);
    expect(errorOf(res)).toEqual({ status: 400, code: 'UNEXPECTED_FILE' });
    expect(await uploadsLeft()).toEqual([]);
  });

  it('the file in a field with another name: 400 UNEXPECTED_FILE', async () => {
    const res = await request(server.app).post('/api/enrich').attach('file', clip);
    expect(errorOf(res)).toEqual({ status: 400, code: 'UNEXPECTED_FILE' });
    expect(await uploadsLeft()).toEqual([]);
  });

  it('a multipart body cut off before its end: 400 BAD_UPLOAD', async () => {
    const body = multipartBody('cutB', [{ name: 'audio', filename: 'a.wav', content: await readFile(clip) }]);
    const res = await request(server.app)
      .post('/api/enrich')
      .set('Content-Type', 'multipart/form-data; boundary=cutB')
      .send(body.subarray(0, body.length - 20));
    expect(errorOf(res)).toEqual({ status: 400, code: 'BAD_UPLOAD' });
    expect(await uploadsLeft()).toEqual([]);
  });

  it.each([
    [{ style: 'no-such-style' }, 'UNKNOWN_STYLE'],
    [{ style: 'rain:' }, 'BAD_STYLE_MIX'],
    [{ style: 'rain;blues' }, 'BAD_STYLE_MIX'],
    [{ style: '../../etc/passwd' }, 'BAD_STYLE_MIX'],
    [{ style: 'rain:0,vinyl:0' }, 'BAD_STYLE_MIX'],
    [{ style: 'rain:0.5,rain:0.5' }, 'BAD_STYLE_MIX'],
    [{ style: 'rain:-1' }, 'BAD_STYLE_MIX'],
    [{ amount: '-0.1' }, 'INVALID_PARAMETER'],
    [{ amount: '1.01' }, 'INVALID_PARAMETER'],
    [{ amount: 'NaN' }, 'INVALID_PARAMETER'],
    [{ amount: 'Infinity' }, 'INVALID_PARAMETER'],
    [{ seed: 'soup' }, 'INVALID_PARAMETER'],
    [{ seed: '1.5' }, 'INVALID_PARAMETER'],
    [{ seed: '-3' }, 'INVALID_PARAMETER'],
    [{ seed: '99999999999' }, 'INVALID_PARAMETER'],
    [{ start: '2', end: '2' }, 'INVALID_PARAMETER'],
    [{ start: '3', end: '1' }, 'INVALID_PARAMETER'],
    [{ start: '-1' }, 'INVALID_PARAMETER'],
    [{ format: 'exe' }, 'INVALID_PARAMETER'],
    [{ start: '1e21' }, 'INVALID_PARAMETER'],
    [{ end: '1e21' }, 'INVALID_PARAMETER'],
  ])('%o: 400 %s, and the upload is not kept', async (fields, code) => {
    const res = await request(server.app).post('/api/enrich').attach('audio', clip).field(fields);
    expect(errorOf(res)).toEqual({ status: 400, code });
    expect(await uploadsLeft()).toEqual([]);
  });

  it('unknown, malformed and expired job ids: 404 JOB_NOT_FOUND on every job URL', async () => {
    const created = await request(server.app).post('/api/jobs').attach('audio', clip);
    const expired = created.body.id as string;
    await server.jobs.settled(expired);
    server.advanceClock(server.config.resultTtlMs + 1);
    await server.jobs.sweep();
    for (const id of [expired, 'ffffffffffffffffffffffffffffffff', 'not-an-id', '..%2F..%2Fetc%2Fpasswd']) {
      for (const [method, suffix] of [['get', ''], ['get', '/result'], ['get', '/input'], ['get', '/recipe'], ['get', '/events'], ['delete', '']] as const) {
        const res = await request(server.app)[method](`/api/jobs/${id}${suffix}`);
        expect(errorOf(res)).toEqual({ status: 404, code: 'JOB_NOT_FOUND' });
      }
    }
    expect(await server.dataFiles()).not.toContainEqual(expect.stringContaining(expired));
  });
});

describe('file names from the client never reach the file system or a header unchanged', () => {
  /** The name a browser would save under, after checking the header has only the two safe parameters. */
  const downloadedName = (header: string): string => {
    const match = /^attachment; filename="([\x20-\x21\x23-\x5b\x5d-\x7e]+)"(?:; filename\*=UTF-8''([A-Za-z0-9%._~!$&+^`|-]+))?$/.exec(header);
    expect(match, header).not.toBeNull();
    const name = match![2] ? decodeURIComponent(match![2]) : match![1];
    expect(name).not.toMatch(/[\p{Cc}/\\"]/u);
    return name;
  };

  it('keeps a name in any script, as the browser saves it (RFC 6266 filename*)', async () => {
    const clip = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    for (const name of ['Café – Ünïcode 🎵 song.mp3', '日本語の歌.mp3']) {
      const res = await request(server.app).post('/api/jobs').attach('audio', clip, name).field('style', 'rain');
      await server.jobs.settled(res.body.id as string);
      const result = await request(server.app).get(`/api/jobs/${res.body.id}/result`).buffer(true).parse(binaryParser);
      expect(downloadedName(result.headers['content-disposition'])).toBe(name.replace(/\.mp3$/, '.rain.enriched.wav'));
      const input = await request(server.app).get(`/api/jobs/${res.body.id}/input`).buffer(true).parse(binaryParser);
      expect(downloadedName(input.headers['content-disposition'])).toBe(name);
      // Later tests here count what jobs leave on disk: these two are done with.
      await request(server.app).delete(`/api/jobs/${res.body.id}`);
    }
  });

  it.each([
    ['../../../../tmp/enricher-pwned.wav'],
    ['..\\..\\windows\\win.ini.wav'],
    ['evil"; filename*=UTF-8\'\'x.exe; a=".wav'],
    ['line\r\nX-Injected: yes\r\n.wav (escaped as %0D%0A, as browsers send it)'],
    ['ünïcødé 🎵 song.wav'],
  ])('%j', async (filename) => {
    const clip = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    const escaped = filename.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
    const body = multipartBody('nameB', [{ name: 'audio', filename: escaped, content: await readFile(clip) }]);
    const res = await request(server.app)
      .post('/api/jobs')
      .set('Content-Type', 'multipart/form-data; boundary=nameB')
      .send(body);
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    await server.jobs.settled(id);

    const result = await request(server.app).get(`/api/jobs/${id}/result`).buffer(true).parse(binaryParser);
    expect(result.status).toBe(200);
    expect(downloadedName(result.headers['content-disposition'])).toMatch(/\.enriched\.wav$/);
    expect(result.headers['x-injected']).toBeUndefined();
    const input = await request(server.app).get(`/api/jobs/${id}/input`).buffer(true).parse(binaryParser);
    expect(input.headers['content-type']).toBe('application/octet-stream');
    downloadedName(input.headers['content-disposition']);

    // On disk there is only the job's folder, named by its id, holding fixed names (once its listening copies are made).
    await listeningCopies(id);
    expect((await server.dataFiles()).filter((f) => f.includes(id))).toEqual([`jobs/${id}/input`, `jobs/${id}/original.mp3`, `jobs/${id}/peaks.json`, `jobs/${id}/result.mp3`, `jobs/${id}/result.wav`]);
    await expect(stat(path.join(os.tmpdir(), 'enricher-pwned.wav'))).rejects.toThrow();
    await request(server.app).delete(`/api/jobs/${id}`);
  });
});

describe('clients that stall or vanish', () => {
  it.each([
    ['a raw line break', 'a\r\nX-Injected: yes.wav', 'MISSING_AUDIO'],
    ['a NUL byte', 'nul\u0000byte.wav', 'BAD_UPLOAD'],
    ['terminal escapes', 'bell\u0007escape\u001b[31m.wav', 'BAD_UPLOAD'],
  ])('%s in the file name of the part header: 400 %s', async (_name, filename, code) => {
    const body = multipartBody('crlfB', [{ name: 'audio', filename, content: 'RIFF' }]);
    const res = await request(server.app).post('/api/enrich').set('Content-Type', 'multipart/form-data; boundary=crlfB').send(body);
    expect(errorOf(res)).toEqual({ status: 400, code });
    expect(res.headers['x-injected']).toBeUndefined();
    expect(await uploadsLeft()).toEqual([]);
  });

  it('an upload that stalls is answered 408 UPLOAD_TIMEOUT and its partial file deleted', async () => {
    const clip = await readFile(await makeClip({ seconds: 3, sampleRate: 44100, channels: 2, extension: 'wav' }));
    const body = multipartBody('stallB', [{ name: 'audio', filename: 'slow.wav', content: clip }]);
    const exchange = rawRequest(port, requestHead('/api/enrich', 'stallB', body.length), body.subarray(0, 200_000));
    await until(async () => (await uploadsLeft()).length === 1, 3000);
    await exchange.closed;
    expect(exchange.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(exchange.received()).toContain('"code":"UPLOAD_TIMEOUT"');
    await until(async () => (await uploadsLeft()).length === 0, 2000).catch(async (e) => { console.log(await uploadsLeft(), JSON.stringify(exchange.received())); throw e; });
  });

  it('a client that disconnects mid-upload leaves no file behind', async () => {
    const clip = await readFile(await makeClip({ seconds: 3, sampleRate: 44100, channels: 2, extension: 'wav' }));
    const body = multipartBody('goneB', [{ name: 'audio', filename: 'gone.wav', content: clip }]);
    const exchange = rawRequest(port, requestHead('/api/enrich', 'goneB', body.length), body.subarray(0, 300_000));
    await until(async () => (await uploadsLeft()).length === 1, 3000);
    exchange.socket.destroy();
    await until(async () => (await uploadsLeft()).length === 0, 2000).catch(async (e) => { console.log(await uploadsLeft(), JSON.stringify(exchange.received())); throw e; });
    expect((await request(server.app).get('/healthz')).status).toBe(200);
  });

  it('a client that disconnects mid-enrich cancels the job and its files are removed', async () => {
    const clip = await readFile(await makeClip({ seconds: 7, sampleRate: 44100, channels: 1, extension: 'wav' }));
    const body = multipartBody('leaveB', [{ name: 'audio', filename: 'leave.wav', content: clip }]);
    const exchange = rawRequest(port, requestHead('/api/enrich', 'leaveB', body.length), body);
    await until(async () => (await server.dataFiles()).some((f) => f.startsWith('jobs/')) && server.jobs.activeCount === 1, 5000);
    const id = (await server.dataFiles()).find((f) => f.startsWith('jobs/'))!.split('/')[1];
    expect((await server.jobs.get(id)).status).toMatch(/queued|running/);
    exchange.socket.destroy();
    await until(async () => server.jobs.activeCount === 0 && !(await server.dataFiles()).some((f) => f.includes(id)), 5000);
    await expect(server.jobs.get(id)).rejects.toThrow();
  });
});

describe('what is kept after an answer', () => {
  it('a one-shot enrich keeps nothing on disk once the client has its audio', async () => {
    const clip = await makeClip({ seconds: 2, sampleRate: 22050, channels: 1, extension: 'wav' });
    const res = await enrich(clip, { seed: '3', format: 'mp3' });
    expect(res.status).toBe(200);
    const id = res.headers['x-job-id'];
    await until(async () => !(await server.dataFiles()).some((f) => f.includes(id)), 2000);
    expect((await request(server.app).get(`/api/jobs/${id}`)).status).toBe(404);
  });

  it.each([
    ['result', 'result.wav', 'result'],
    ['input', 'input', 'input'],
  ])('a %s whose file is gone under it: 404 JOB_NOT_FOUND as JSON, not as an audio attachment', async (_name, file, suffix) => {
    const clip = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    const id = (await request(server.app).post('/api/jobs').attach('audio', clip)).body.id as string;
    await server.jobs.settled(id);
    await rm(path.join(server.files.dataDir, 'jobs', id, file));
    const res = await request(server.app).get(`/api/jobs/${id}/${suffix}`);
    expect(errorOf(res)).toEqual({ status: 404, code: 'JOB_NOT_FOUND' });
    expect(res.headers['content-disposition']).toBeUndefined();
    expect(res.headers['x-enrich-style']).toBeUndefined();
    expect(res.headers['cache-control']).toBeUndefined();
    await request(server.app).delete(`/api/jobs/${id}`);
  });
});

describe('security headers and what is never served', () => {
  it('sends a CSP the front end works under: scripts from self (and the preview\'s WebAssembly), audio from blob:', async () => {
    const res = await request(server.app).get('/healthz');
    const csp = res.headers['content-security-policy'];
    // 'wasm-unsafe-eval' compiles WebAssembly only; JavaScript eval stays refused.
    expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
    expect(csp).not.toMatch(/'unsafe-eval'/);
    expect(csp).toMatch(/connect-src 'self' blob:/);
    expect(csp).toMatch(/media-src 'self' blob:/);
    expect(csp).toMatch(/object-src 'none'/);
    expect(csp).toMatch(/frame-ancestors 'self'/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('lists no directory and serves no upload or data file by path', async () => {
    for (const url of ['/uploads/', '/data/', '/data/jobs/', '/jobs/', '/models/', '/models/manifest.json', '/.env', '/package.json', '/node_app/server/config.ts']) {
      const res = await request(server.app).get(url);
      expect(res.status).toBe(404);
    }
  });
});

describe('the data dir after all of the above', () => {
  it('holds only the files of jobs that are still live', async () => {
    const clip = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    const live = (await request(server.app).post('/api/jobs').attach('audio', clip)).body.id as string;
    await server.jobs.settled(live);
    await until(() => server.jobs.activeCount === 0, 10_000);
    await listeningCopies(live);

    // Every refused, failed, cancelled, expired and deleted job above has left nothing; the live one its five files.
    expect(await server.dataFiles()).toEqual([`jobs/${live}/input`, `jobs/${live}/original.mp3`, `jobs/${live}/peaks.json`, `jobs/${live}/result.mp3`, `jobs/${live}/result.wav`]);
    await request(server.app).delete(`/api/jobs/${live}`);
    expect(await server.dataFiles()).toEqual([]);
    expect(await readdir(path.join(server.files.dataDir, 'jobs'))).toEqual([]);
  });
});
