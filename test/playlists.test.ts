import { execFile } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { mkdtemp, open, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../node_app/server/adapters/media/ffmpeg/binary.js';
import { probeAudio } from '../node_app/server/adapters/media/ffmpeg/probe.js';
import { ProcessLauncher } from '../node_app/server/adapters/media/process-launcher.js';
import { binaryParser, makeClip } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * Uploads that are not media but instructions to ffmpeg: playlists and descriptions that name files on the
 * server (or addresses on its network). Each one points at a real audio file that the server can read; with
 * `amount=0` an upload that made ffmpeg read it would get that file back as the "enriched" result.
 */
const bundled = resolveFfmpeg(undefined).path;
const binaries: Array<[string, string]> = [['the bundled ffmpeg', bundled]];
// Debian's ffmpeg is what Heroku runs (the Aptfile); where it is installed the same attacks must fail with it.
if (existsSync('/usr/bin/ffmpeg')) binaries.push(["the system's ffmpeg", '/usr/bin/ffmpeg']);

let secretDir: string;
let secret: string;
let secretBytes: Buffer;
let listener: http.Server;
let hits = 0;
let intranetUrl: string;

beforeAll(async () => {
  secretDir = await mkdtemp(path.join(os.tmpdir(), 'enricher-secret-'));
  secret = path.join(secretDir, 'private-recording.wav');
  await writeFile(secret, await readFile(await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' })));
  secretBytes = await readFile(secret);
  // Stands for a service on the server's network: nothing may connect to it on an uploader's behalf.
  listener = http.createServer((_req, res) => {
    hits++;
    res.end();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  intranetUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/private-recording.wav`;
});
const launcher = new ProcessLauncher();
afterAll(async () => {
  listener.close();
  await launcher.close();
});

const playlists: Array<[string, () => string]> = [
  ['an HLS playlist', () => `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\n${secret}\n#EXT-X-ENDLIST\n`],
  ['an HLS playlist with file: URLs', () => `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\nfile:${secret}\n#EXT-X-ENDLIST\n`],
  ['an HLS playlist with a network URL', () => `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\n${intranetUrl}\n#EXT-X-ENDLIST\n`],
  ['an ffconcat script', () => `ffconcat version 1.0\nfile '${secret}'\n`],
  ['an ffconcat script through the subfile protocol', () => `ffconcat version 1.0\nfile 'subfile,,start,0,end,0,,:${secret}'\n`],
  ['an m3u playlist', () => `#EXTM3U\n#EXTINF:1,private recording\n${secret}\n`],
  ['an SDP description', () => `v=0\no=- 0 0 IN IP4 127.0.0.1\ns=stream\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 5004 RTP/AVP 11\na=rtpmap:11 L16/44100/1\n`],
  [
    'a DASH manifest',
    () =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT1S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">\n` +
      `<Period><AdaptationSet mimeType="audio/wav"><Representation id="a" bandwidth="64000"><BaseURL>file://${secret}</BaseURL></Representation></AdaptationSet></Period>\n</MPD>\n`,
  ],
];

describe.each(binaries)('with %s', (_name, binary) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ FFMPEG_PATH: binary });
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(playlists)('%s naming a file on the server: 415, and nothing of the file comes back', async (_kind, playlist) => {
    hits = 0;
    const started = Date.now();
    const res = await request(server.app)
      .post('/api/enrich')
      .attach('audio', Buffer.from(playlist()), { filename: 'song.mp3', contentType: 'audio/mpeg' })
      .field('amount', '0')
      .buffer(true)
      .parse(binaryParser);
    expect(res.status).toBe(415);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse((res.body as Buffer).toString('utf8')).error.code).toMatch(/^(UNSUPPORTED_FORMAT|NOT_AUDIO)$/);
    expect((res.body as Buffer).includes(secretBytes.subarray(44, 1044))).toBe(false);
    expect(hits).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await server.dataFiles()).toEqual([]);
  });

  it('a live HLS playlist (no end tag) is refused within seconds, not held for the decode timeout', async () => {
    const live = `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\n${secret}\n`;
    const started = Date.now();
    const res = await request(server.app).post('/api/jobs').attach('audio', Buffer.from(live), { filename: 'live.m3u8' });
    expect(res.status).toBe(202);
    const job = await server.jobs.settled(res.body.id as string);
    expect(job.error).toMatchObject({ status: 415, code: 'UNSUPPORTED_FORMAT' });
    expect(Date.now() - started).toBeLessThan(5000);
    const result = await request(server.app).get(`/api/jobs/${job.id}/result`);
    expect(result.status).toBe(409);
  });

  it('ffmpeg does not even open the file a playlist names', async () => {
    // A FIFO shows whether anyone opens it: a writer can open one without blocking only while a reader has it open.
    const fifo = path.join(secretDir, `watched-${path.basename(binary)}-${Date.now()}.wav`);
    await promisify(execFile)('mkfifo', [fifo]);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'enricher-playlist-'));
    const cases = [
      `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\n${fifo}\n#EXT-X-ENDLIST\n`,
      `ffconcat version 1.0\nfile '${fifo}'\n`,
    ];
    for (const [i, playlist] of cases.entries()) {
      const upload = path.join(dir, `upload-${i}`);
      await writeFile(upload, playlist);
      let opened = false;
      const watching = setInterval(() => {
        void open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then(
          async (handle) => {
            opened = true;
            await handle.close();
          },
          () => undefined,
        );
      }, 5);
      const probe = await probeAudio(launcher, binary, upload, 3000).finally(() => clearInterval(watching));
      expect(probe).toMatchObject({ kind: 'refused' });
      expect(opened).toBe(false);
    }
  });
});
