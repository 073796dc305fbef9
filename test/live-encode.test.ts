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

// A job that asks for mp3, flac or ogg has that file encoded while it is enriched, so its first download is
// served at once, and it is the same file an encode of the WAV master gives.

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function submit(clip: string, format: string, seed = '5'): Promise<string> {
  const res = await request(server!.app).post('/api/jobs').attach('audio', clip).field({ format, seed });
  expect(res.status).toBe(202);
  return res.body.id as string;
}

describe('encoding while enriching', () => {
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

  it('DELETE during the job stops its encoder too: no ffmpeg left, no files left', async () => {
    server = await startTestServer();
    const clip = await makeClip({ seconds: 60, sampleRate: 44100, channels: 2, extension: 'wav' });
    const id = await submit(clip, 'mp3');
    const deadline = Date.now() + 15_000;
    while ((await ffmpegChildren()).length === 0 && Date.now() < deadline) await sleep(10);
    expect((await server.jobs.get(id)).status).toBe('running');
    expect(await ffmpegChildren()).toHaveLength(1);

    expect((await request(server.app).delete(`/api/jobs/${id}`)).status).toBe(204);
    expect(await ffmpegChildren()).toEqual([]);
    expect(await server.dataFiles()).toEqual([]);
  });

  it('takes an encoder only when one is free: two mp3 jobs at once never run two encoders, and both download', async () => {
    server = await startTestServer({ WORKERS: '2', ENCODE_WORKERS: '1' });
    const clip = await makeClip({ seconds: 20, sampleRate: 44100, channels: 2, extension: 'wav' });
    const ids = [await submit(clip, 'mp3', '1'), await submit(clip, 'mp3', '2')];
    let most = 0;
    const settled = Promise.all(ids.map((id) => server!.jobs.settled(id)));
    let done = false;
    void settled.then(() => (done = true));
    while (!done) {
      most = Math.max(most, (await ffmpegChildren()).length);
      await sleep(20);
    }
    expect(most).toBe(1);
    const files = await server.dataFiles();
    // One job had the encoder; the other's first download encodes from its master.
    expect(ids.filter((id) => files.includes(path.join('jobs', id, 'result.mp3')))).toHaveLength(1);
    for (const id of ids) {
      const res = await request(server.app).get(`/api/jobs/${id}/result?format=mp3`).buffer(true).parse(binaryParser);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('audio/mpeg');
    }
  });
});
