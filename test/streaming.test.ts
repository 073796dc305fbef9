import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { AudioCodec, PcmStream } from '../node_app/server/adapters/media/audio-codec.js';
import { binaryParser, makeClip, readWavBytes } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// The pipeline is one stream from the upload to the WAV master: these tests hold it to what that promises a
// user — a long song does not have to fit in memory, and a song found too long halfway leaves nothing behind.

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function errorCode(res: request.Response): { status: number; code: string } {
  return { status: res.status, code: (res.body as { error: { code: string } }).error.code };
}

describe('the streamed pipeline', () => {
  it('never lets the decoder run far ahead of the master being written', async () => {
    let decoded = 0;
    let worstLead = 0;
    const watched = (real: AudioCodec): AudioCodec => ({
      ...real,
      async decode(path, options) {
        const stream = await real.decode(path, options);
        async function* counted(): AsyncGenerator<Float32Array[]> {
          for await (const chunk of stream.chunks) {
            decoded += chunk[0].length;
            yield chunk;
          }
        }
        return { ...stream, chunks: counted() } satisfies PcmStream;
      },
      async writeWav(path, format) {
        const writer = await real.writeWav(path, format);
        let written = 0;
        return {
          ...writer,
          async write(channels) {
            worstLead = Math.max(worstLead, decoded - written);
            written += channels[0].length;
            await writer.write(channels);
          },
        };
      },
    });
    server = await startTestServer({}, { codec: watched });
    const seconds = 90;
    const wav = await makeClip({ seconds, sampleRate: 44100, channels: 2, extension: 'wav' });
    const res = await request(server.app).post('/api/enrich').attach('audio', wav).field({ seed: '3' }).buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    expect(readWavBytes(res.body as Buffer).seconds).toBeCloseTo(seconds, 3);
    // A few windows and slices in flight, far from the whole song that a decode-then-enrich pipeline holds.
    expect(worstLead / 44100).toBeLessThan(20);
  });

  it('a song found too long only while decoding: 413 TOO_LONG and no result left on disk', async () => {
    server = await startTestServer({ MAX_DURATION_S: '3' });
    // MP3's length is only known by decoding it, so the limit trips halfway through the stream.
    const mp3 = await makeClip({ seconds: 8, sampleRate: 44100, channels: 2, extension: 'mp3', codec: ['-c:a', 'libmp3lame'] });
    const created = await request(server.app).post('/api/jobs').attach('audio', mp3);
    expect(created.status).toBe(202);
    const job = await server.jobs.settled(created.body.id as string);
    expect(job).toMatchObject({ status: 'failed', error: { status: 413, code: 'TOO_LONG' } });
    expect(await server.dataFiles()).toEqual([]);
    const result = await request(server.app).get(`/api/jobs/${job.id}/result`);
    expect(result.status).toBe(409);

    const direct = await request(server.app).post('/api/enrich').attach('audio', mp3);
    expect(errorCode(direct)).toEqual({ status: 413, code: 'TOO_LONG' });
  });
});
