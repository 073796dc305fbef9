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

// Every job encodes its listening copies (the result as mp3, and the part of the input it enriched) before it is
// done, once the model's work is over, and a job that asks for flac or ogg that format while it is enriched when an
// encoder is free; so Play and the first download are served at once, with the same file an encode of the WAV
// master gives.

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

describe("a job's own encodes", () => {
  it.each(['mp3', 'flac'])('a %s job ends with its result encoded, byte for byte what the master encodes to', async (format) => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 12, sampleRate: 44100, channels: 2, extension: 'wav' });
    const id = await submit(clip, format);
    expect((await server.jobs.settled(id)).status).toBe('done');
    expect(await server.dataFiles()).toContain(path.join('jobs', id, `result.${format}`));

    const downloaded = await request(server.app).get(`/api/jobs/${id}/result?format=${format}`).buffer(true).parse(binaryParser);
    expect(downloaded.status).toBe(200);
    const codec = createAudioCodec({ ffmpegPath: resolveFfmpeg(server.config.ffmpegPath, { preferSystem: server.config.useSystemFfmpeg }).path, timeoutMs: 60_000, stallTimeoutMs: 60_000 });
    const fromMaster = path.join(await mkdtemp(path.join(os.tmpdir(), 'live-encode-')), `master.${format}`);
    try {
      await codec.transcode(server.files.jobFile(id, 'result.wav'), format as 'mp3' | 'flac', fromMaster);
    } finally {
      await codec.close();
    }
    expect((downloaded.body as Buffer).equals(await readFile(fromMaster))).toBe(true);
  });

  it('an mp3 job runs one ffmpeg at a time: its decoder while it is enriched, then its listening copies in turn', async () => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 40, sampleRate: 44100, channels: 2, extension: 'mp3' });
    const id = await submit(clip, 'mp3');
    let most = 0;
    let seen = 0;
    let done = false;
    const settled = server.jobs.settled(id).finally(() => (done = true));
    while (!done) {
      const running = (await ffmpegChildren()).length;
      most = Math.max(most, running);
      if (running > 0) seen++;
      await sleep(10);
    }
    expect((await settled).status).toBe('done');
    // Beside the decoder, both copies encoded live made three at once; each Debian ffmpeg is ≈ 52 MB of RSS.
    expect(seen).toBeGreaterThan(0);
    expect(most).toBe(1);
    const files = await server.dataFiles();
    expect(files).toContain(path.join('jobs', id, 'result.mp3'));
    expect(files).toContain(path.join('jobs', id, 'original.mp3'));
    // Neither the spool of the input nor a partial encode is left.
    expect(files.filter((file) => file.includes('.part'))).toEqual([]);
  });

  it('DELETE while the listening copies are encoded stops their encoder: no ffmpeg left, no files left', async () => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 120, sampleRate: 44100, channels: 2, extension: 'wav' });
    const id = await submit(clip, 'mp3');
    const deadline = Date.now() + 240_000;
    // A WAV upload is decoded in process: the first ffmpeg of the job is a listening copy's encoder.
    while ((await ffmpegChildren()).length === 0 && Date.now() < deadline) await sleep(5);
    const job = await server.jobs.get(id);
    expect(job.status).toBe('running');
    expect(job.stage).toBe('encoding');

    expect((await request(server.app).delete(`/api/jobs/${id}`)).status).toBe(204);
    expect(await ffmpegChildren()).toEqual([]);
    expect(await server.dataFiles()).toEqual([]);
  });

  it('a wav job of a section ends with both listening copies: the result as mp3, and the same section of the input', async () => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 30, sampleRate: 44100, channels: 2, extension: 'wav' });
    const id = await submit(clip, 'wav', '5', { start: '10', end: '14.5' });
    expect((await server.jobs.settled(id)).status).toBe('done');
    const files = await server.dataFiles();
    expect(files).toContain(path.join('jobs', id, 'result.mp3'));
    expect(files).toContain(path.join('jobs', id, 'original.mp3'));

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
    // One job had the encoder; the other's first download encodes from its master. Both have their mp3.
    expect(ids.filter((id) => files.includes(path.join('jobs', id, 'result.flac')))).toHaveLength(1);
    expect(ids.filter((id) => files.includes(path.join('jobs', id, 'result.mp3')))).toHaveLength(2);
    for (const id of ids) {
      const res = await request(server.app).get(`/api/jobs/${id}/result?format=flac`).buffer(true).parse(binaryParser);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('audio/flac');
    }
  });
});
