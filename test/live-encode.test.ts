import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createAudioCodec } from '../node_app/server/adapters/media/audio-codec.js';
import { resolveFfmpeg } from '../node_app/server/adapters/media/ffmpeg/binary.js';
import { binaryParser, makeClip } from './helpers/audio.js';
import { ffmpegChildren } from './helpers/processes.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// A job is done as soon as its WAV master is stored; its listening copies (the result as mp3, and the part of the
// input it enriched) are encoded after that, one at a time, and a request for one waits for it. A job that asks for
// flac or ogg has that format encoded while it is enriched when an encoder is free, and so has an mp3 job whose
// input is a WAV (read in process, so the encoder is its only ffmpeg). Every encode is the same file an encode of
// the WAV master gives.

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function submit(clip: string, format: string, seed = '5', section: Record<string, string> = {}): Promise<string> {
  const res = await request(server!.app).post('/api/jobs').attach('audio', clip).field({ format, seed, ...section });
  expect(res.status).toBe(202);
  return res.body.id as string;
}

async function encodeOfMaster(id: string, format: 'mp3' | 'flac'): Promise<Buffer> {
  const codec = createAudioCodec({ ffmpegPath: resolveFfmpeg(server!.config.ffmpegPath, { preferSystem: server!.config.useSystemFfmpeg }).path, timeoutMs: 60_000, stallTimeoutMs: 60_000 });
  const fromMaster = path.join(await mkdtemp(path.join(os.tmpdir(), 'live-encode-')), `master.${format}`);
  try {
    await codec.transcode(server!.files.jobFile(id, 'result.wav'), format, fromMaster);
  } finally {
    await codec.close();
  }
  return readFile(fromMaster);
}

/** Samples the number of ffmpeg processes until `done` settles: the most at once, and how many samples saw one. */
async function countFfmpeg(done: Promise<unknown>): Promise<{ most: number; seen: number }> {
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  let most = 0;
  let seen = 0;
  while (!finished) {
    const running = (await ffmpegChildren()).length;
    most = Math.max(most, running);
    if (running > 0) seen++;
    await sleep(10);
  }
  return { most, seen };
}

describe("a job's own encodes", () => {
  it.each(['mp3', 'flac'])('a %s job of a WAV has its own format when it is done, byte for byte what the master encodes to', async (format) => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 12, sampleRate: 44100, channels: 2, extension: 'wav' });
    const id = await submit(clip, format);
    let files: string[] = [];
    const settled = server.jobs.settled(id).then(async (job) => {
      files = await server!.dataFiles();
      return job;
    });
    // Encoded while the job runs, beside nothing else: a WAV is read in process.
    const { most } = await countFfmpeg(settled);
    expect((await settled).status).toBe('done');
    expect(files).toContain(path.join('jobs', id, `result.${format}`));
    expect(most).toBe(1);

    const downloaded = await request(server.app).get(`/api/jobs/${id}/result?format=${format}`).buffer(true).parse(binaryParser);
    expect(downloaded.status).toBe(200);
    expect((downloaded.body as Buffer).equals(await encodeOfMaster(id, format as 'mp3' | 'flac'))).toBe(true);
  });

  it('a job is done before its listening copies exist; a request for each waits for it and gets the encode of its source', async () => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 120, sampleRate: 44100, channels: 2, extension: 'wav' });
    const id = await submit(clip, 'wav');
    expect((await server.jobs.settled(id)).status).toBe('done');
    // Encoding two minutes of stereo twice takes seconds: the job was reported done before either copy was stored.
    const atDone = await server.dataFiles();
    expect(atDone).toContain(path.join('jobs', id, 'result.wav'));
    expect(atDone).not.toContain(path.join('jobs', id, 'result.mp3'));
    expect(atDone).not.toContain(path.join('jobs', id, 'original.mp3'));

    const [listening, original] = await Promise.all([
      request(server.app).get(`/api/jobs/${id}/result?format=mp3`).buffer(true).parse(binaryParser),
      request(server.app).get(`/api/jobs/${id}/original`).buffer(true).parse(binaryParser),
    ]);
    expect(listening.status).toBe(200);
    expect((listening.body as Buffer).equals(await encodeOfMaster(id, 'mp3'))).toBe(true);
    expect(original.status).toBe(200);
    expect(original.headers['content-type']).toBe('audio/mpeg');
    expect((original.body as Buffer).length).toBeGreaterThan(500_000);
    const files = await server.dataFiles();
    expect(files.filter((file) => file.includes(id)).sort()).toEqual(['input', 'original.mp3', 'peaks.json', 'result.mp3', 'result.wav'].map((name) => path.join('jobs', id, name)));
  });

  it('the one-shot POST /api/enrich encodes no listening copy: a WAV song runs no ffmpeg at all, and leaves nothing', async () => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 40, sampleRate: 44100, channels: 2, extension: 'wav' });
    const answered = Promise.resolve(request(server.app).post('/api/enrich').attach('audio', clip).field({ format: 'wav', seed: '3' }).buffer(true).parse(binaryParser));
    const { seen } = await countFfmpeg(answered);
    const res = await answered;
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('audio/wav');
    // A WAV is decoded and written in process; the two copies would each have been an ffmpeg.
    expect(seen).toBe(0);
    await sleep(500);
    expect(await ffmpegChildren()).toEqual([]);
    expect(await server.dataFiles()).toEqual([]);
  });

  it('an mp3 job runs one ffmpeg at a time: its decoder while it is enriched, then its listening copies in turn', async () => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 40, sampleRate: 44100, channels: 2, extension: 'mp3' });
    const id = await submit(clip, 'mp3');
    let files: string[] = [];
    const copies = server.jobs.settled(id).then(async (job) => {
      expect(job.status).toBe('done');
      const deadline = Date.now() + 120_000;
      const wanted = ['result.mp3', 'original.mp3'].map((name) => path.join('jobs', id, name));
      while (!wanted.every((file) => files.includes(file)) && Date.now() < deadline) {
        files = await server!.dataFiles();
        await sleep(20);
      }
    });
    const { most, seen } = await countFfmpeg(copies);
    await copies;
    // Beside the decoder, both copies encoded live made three at once; each Debian ffmpeg is ≈ 52 MB of RSS.
    expect(seen).toBeGreaterThan(0);
    expect(most).toBe(1);
    expect(files).toContain(path.join('jobs', id, 'result.mp3'));
    expect(files).toContain(path.join('jobs', id, 'original.mp3'));
    await sleep(200);
    // Neither the WAV the original is encoded from nor a partial encode is left.
    expect((await server.dataFiles()).filter((file) => file.includes('.part'))).toEqual([]);
  });

  it('DELETE while the listening copies are encoded, after the job is done, stops their encoder: no ffmpeg left, no files left', async () => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 120, sampleRate: 44100, channels: 2, extension: 'wav' });
    const id = await submit(clip, 'wav');
    const deadline = Date.now() + 240_000;
    // A WAV upload is decoded in process: the first ffmpeg of the job is a listening copy's encoder.
    while ((await ffmpegChildren()).length === 0 && Date.now() < deadline) await sleep(5);
    expect((await server.jobs.get(id)).status).toBe('done');
    const waiting = request(server.app).get(`/api/jobs/${id}/original`);

    expect((await request(server.app).delete(`/api/jobs/${id}`)).status).toBe(204);
    expect(await ffmpegChildren()).toEqual([]);
    expect(await server.dataFiles()).toEqual([]);
    // The request that waited for a copy is told the job is gone.
    expect((await waiting).status).toBe(404);
    await sleep(500);
    expect(await ffmpegChildren()).toEqual([]);
    expect(await server.dataFiles()).toEqual([]);
  });

  it('the original of a wav job of a section is the same section of the input, as mp3', async () => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 30, sampleRate: 44100, channels: 2, extension: 'wav' });
    const id = await submit(clip, 'wav', '5', { start: '10', end: '14.5' });
    expect((await server.jobs.settled(id)).status).toBe('done');

    const original = await request(server.app).get(`/api/jobs/${id}/original`).set('Range', 'bytes=0-').buffer(true).parse(binaryParser);
    expect(original.status).toBe(206);
    expect(original.headers['content-type']).toBe('audio/mpeg');
    expect(original.headers['content-disposition']).toMatch(/\.original\.mp3"/);
    const codec = createAudioCodec({ ffmpegPath: resolveFfmpeg(server.config.ffmpegPath, { preferSystem: server.config.useSystemFfmpeg }).path, timeoutMs: 60_000, stallTimeoutMs: 60_000 });
    try {
      const decoded = await codec.decode(server.files.jobFile(id, 'original.mp3'), { maxSeconds: 600 });
      let frames = 0;
      for await (const chunk of decoded.chunks) frames += chunk[0].length;
      // The section alone, give or take the mp3 encoder's padding, not the 30-s file.
      expect(frames / decoded.sampleRate).toBeGreaterThan(4.45);
      expect(frames / decoded.sampleRate).toBeLessThan(4.6);
    } finally {
      await codec.close();
    }
  });

  it('takes an encoder for a flac job only when one is free: two at once never run two flac encoders, and both download', async () => {
    server = await startTestServer({ WORKERS: '2', ENCODE_WORKERS: '1' });
    const clip = await makeClip({ seconds: 20, sampleRate: 44100, channels: 2, extension: 'wav' });
    const ids = [await submit(clip, 'flac', '1'), await submit(clip, 'flac', '2')];
    let most = 0;
    const settled = Promise.all(ids.map((id) => server!.jobs.settled(id)));
    let done = false;
    void settled.then(() => (done = true));
    while (!done) {
      const commands = await Promise.all((await ffmpegChildren()).map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')));
      // A WAV input's command line names flac among the containers it may not be read as: count flac encoders.
      most = Math.max(most, commands.filter((command) => command.includes('-c:a\0flac')).length);
      await sleep(20);
    }
    expect(most).toBe(1);
    const files = await server.dataFiles();
    // One job had the encoder; the other's first download encodes from its master.
    expect(ids.filter((id) => files.includes(path.join('jobs', id, 'result.flac')))).toHaveLength(1);
    for (const id of ids) {
      const res = await request(server.app).get(`/api/jobs/${id}/result?format=flac`).buffer(true).parse(binaryParser);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('audio/flac');
    }
  });
});
