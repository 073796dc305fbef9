import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryParser, fixtureDir, makeClip, probe, readWavBytes, type ToneSpec } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

function enrich(file: string, fields: Record<string, string> = {}) {
  let req = request(server.app).post('/api/enrich').attach('audio', file);
  for (const [key, value] of Object.entries(fields)) req = req.field(key, value);
  return req.buffer(true).parse(binaryParser);
}

const inputs: Array<ToneSpec & { name: string }> = [
  { name: 'wav 44.1 kHz stereo', seconds: 3, sampleRate: 44100, channels: 2, extension: 'wav' },
  { name: 'wav 22.05 kHz mono', seconds: 2.5, sampleRate: 22050, channels: 1, extension: 'wav' },
  { name: 'mp3 48 kHz stereo', seconds: 3, sampleRate: 48000, channels: 2, extension: 'mp3', codec: ['-c:a', 'libmp3lame'] },
  { name: 'flac 44.1 kHz mono', seconds: 2, sampleRate: 44100, channels: 1, extension: 'flac' },
  { name: 'ogg/vorbis 44.1 kHz stereo', seconds: 2, sampleRate: 44100, channels: 2, extension: 'ogg', codec: ['-c:a', 'libvorbis'] },
  { name: 'm4a/aac 44.1 kHz stereo', seconds: 2, sampleRate: 44100, channels: 2, extension: 'm4a', codec: ['-c:a', 'aac'] },
  { name: 'webm/opus 48 kHz mono (a browser recording)', seconds: 2, sampleRate: 48000, channels: 1, extension: 'webm', codec: ['-c:a', 'libopus'] },
];

describe('POST /api/enrich', () => {
  it.each(inputs)('enriches $name into a WAV of the same duration, rate and channels', async (spec) => {
    const file = await makeClip(spec);
    const input = await probe(file);
    const res = await enrich(file, { style: 'rain', seed: '7' });

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('audio/wav');
    expect(res.headers['x-enrich-style']).toBe('rain');
    expect(res.headers['x-enrich-seed']).toBe('7');
    expect(res.headers['x-job-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="clip-${spec.seconds}s-${spec.sampleRate}-${spec.channels}ch.rain.enriched.wav"`);

    const out = readWavBytes(res.body as Buffer);
    expect(out.sampleRate).toBe(spec.sampleRate);
    expect(out.channels).toBe(spec.channels);
    expect(Math.abs(out.seconds - input.seconds)).toBeLessThanOrEqual(0.001);
  });

  it('changes the music audibly but keeps it, and never clips', async () => {
    const file = await makeClip({ seconds: 3, sampleRate: 44100, channels: 2, extension: 'wav' });
    const dry = readWavBytes(await readFile(file));
    const res = await enrich(file, { style: 'thunderstorm', amount: '1', seed: '1' });
    const wet = readWavBytes(res.body as Buffer);
    let difference = 0;
    let peak = 0;
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < dry.frames; i++) {
        difference += Math.abs(wet.samples[c][i] - dry.samples[c][i]);
        peak = Math.max(peak, Math.abs(wet.samples[c][i]));
      }
    }
    expect(difference / (2 * dry.frames)).toBeGreaterThan(50); // in 16-bit steps
    expect(peak).toBeLessThan(32767);
  });

  it('returns the input unchanged at amount 0', async () => {
    const file = await makeClip({ seconds: 1.5, sampleRate: 44100, channels: 2, extension: 'wav' });
    const res = await enrich(file, { amount: '0' });
    expect(res.status).toBe(200);
    expect(readWavBytes(res.body as Buffer).samples).toEqual(readWavBytes(await readFile(file)).samples);
  });

  it('gives the same bytes for the same input, style, amount and seed', async () => {
    const file = await makeClip({ seconds: 2, sampleRate: 44100, channels: 1, extension: 'wav' });
    const fields = { style: 'rain:0.7,blues:0.3', amount: '0.6', seed: '1234' };
    const [a, b, c] = await Promise.all([enrich(file, fields), enrich(file, fields), enrich(file, { ...fields, seed: '1235' })]);
    expect(a.headers['x-enrich-style']).toBe('rain:0.7,blues:0.3');
    expect(Buffer.compare(a.body as Buffer, b.body as Buffer)).toBe(0);
    expect(Buffer.compare(a.body as Buffer, c.body as Buffer)).not.toBe(0);
  });

  it.each(['mp3', 'flac', 'ogg'])('answers in %s when asked', async (format) => {
    const file = await makeClip({ seconds: 2, sampleRate: 44100, channels: 2, extension: 'wav' });
    const res = await enrich(file, { format, seed: '3' });
    expect(res.status).toBe(200);
    const saved = path.join(await fixtureDir(), `answer.${format}`);
    await writeFile(saved, res.body as Buffer);
    const out = await probe(saved);
    expect(out.channels).toBe(2);
    expect(out.seconds).toBeGreaterThan(1.9);
  });

  it('reads the format in any case, as it reads the style', async () => {
    const file = await makeClip({ seconds: 1, sampleRate: 44100, channels: 1, extension: 'wav' });
    const res = await enrich(file, { style: 'Rain', format: 'MP3' });
    expect([res.status, res.headers['content-type'], res.headers['x-enrich-style']]).toEqual([200, 'audio/mpeg', 'rain']);
  });

  it('enriches only the section between start and end', async () => {
    const file = await makeClip({ seconds: 4, sampleRate: 44100, channels: 1, extension: 'mp3', codec: ['-c:a', 'libmp3lame'] });
    const res = await enrich(file, { start: '1', end: '2.5' });
    expect(res.status).toBe(200);
    expect(readWavBytes(res.body as Buffer).seconds).toBeCloseTo(1.5, 2);
  });

  it.each([
    [{ style: 'no-such-style' }, 400, 'UNKNOWN_STYLE'],
    [{ style: 'rain:abc' }, 400, 'BAD_STYLE_MIX'],
    [{ amount: '1.5' }, 400, 'INVALID_PARAMETER'],
    [{ seed: 'soup' }, 400, 'INVALID_PARAMETER'],
    [{ format: 'aiff' }, 400, 'INVALID_PARAMETER'],
    [{ style: 'thunder' }, 400, 'UNKNOWN_STYLE'],
    [{ style: 'rain:0.7,blues' }, 400, 'BAD_STYLE_MIX'],
    [{ start: '3', end: '1' }, 400, 'INVALID_PARAMETER'],
  ])('refuses %o with %i %s as JSON', async (fields, status, code) => {
    const file = await makeClip({ seconds: 1, sampleRate: 44100, channels: 1, extension: 'wav' });
    const res = await request(server.app).post('/api/enrich').attach('audio', file).field(fields as Record<string, string>);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toEqual(expect.any(String));
  });

  it('refuses a request without audio and a file that is not audio', async () => {
    const missing = await request(server.app).post('/api/enrich').field('style', 'rain');
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('MISSING_AUDIO');

    const fake = path.join(await fixtureDir(), 'notes.mp3');
    await writeFile(fake, '<html><body>definitely not a song</body></html>');
    const notAudio = await request(server.app).post('/api/enrich').attach('audio', fake);
    expect(notAudio.status).toBe(415);
    expect(notAudio.body.error.code).toBe('NOT_AUDIO');
  });
});
