import { readFile, writeFile } from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryParser, makeClip, probe, readWavBytes, type WavSummary } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let clip: string;
let clipWav: WavSummary;
beforeAll(async () => {
  server = await startTestServer();
  clip = await makeClip({ seconds: 6, sampleRate: 44100, channels: 2, extension: 'wav' });
  clipWav = readWavBytes(await readFile(clip));
});
afterAll(async () => {
  await server?.close();
});

async function finishedJob(fields: Record<string, string>): Promise<{ id: string; output: { loudness?: { gainDb: number } } }> {
  const created = await request(server.app).post('/api/jobs').attach('audio', clip).field({ style: 'rain', seed: '8', ...fields });
  expect(created.status).toBe(202);
  const job = await server.jobs.settled(created.body.id as string);
  expect(job.status).toBe('done');
  return { id: job.id, output: (await request(server.app).get(`/api/jobs/${job.id}`)).body.output };
}

async function download(id: string, query: string) {
  const res = await request(server.app).get(`/api/jobs/${id}/result?${query}`).buffer(true).parse(binaryParser);
  expect(res.status).toBe(200);
  return res;
}

/** The largest |gain · input + layer − result| over every sample of every channel, in 16-bit steps. */
function worstMismatch(input: WavSummary, layer: WavSummary, result: WavSummary, gain: number, from = 0): number {
  let worst = 0;
  for (let c = 0; c < result.channels; c++) {
    for (let i = 0; i < result.frames; i++) worst = Math.max(worst, Math.abs(gain * input.samples[c][from + i] + layer.samples[c][i] - result.samples[c][i]));
  }
  return worst;
}

function rms(wav: WavSummary): number {
  let sum = 0;
  for (const channel of wav.samples) for (const v of channel) sum += (v / 32768) ** 2;
  return Math.sqrt(sum / (wav.frames * wav.channels));
}

describe('the added layer as its own stem (part=layer)', () => {
  it('is sample-aligned with the input and as long: input + layer = result, sample by sample', async () => {
    const { id } = await finishedJob({ amount: '0.7' });
    const result = readWavBytes((await download(id, 'format=wav')).body as Buffer);
    const layerAnswer = await download(id, 'format=wav&part=layer');
    expect(layerAnswer.headers['content-type']).toBe('audio/wav');
    expect(layerAnswer.headers['content-disposition']).toMatch(/\.rain\.layer\.wav"/);
    const layer = readWavBytes(layerAnswer.body as Buffer);
    expect([layer.sampleRate, layer.channels, layer.frames]).toEqual([result.sampleRate, result.channels, result.frames]);
    expect(layer.frames).toBe(clipWav.frames);
    expect(worstMismatch(clipWav, layer, result, 1)).toBeLessThanOrEqual(1);
    // The stem is the rain, not silence and not the song again.
    expect(rms(layer)).toBeGreaterThan(0.01);
    expect(rms(layer)).toBeLessThan(rms(result));
  });

  it('is silence at amount 0, and comes as mp3 with the same length', async () => {
    const { id } = await finishedJob({ amount: '0' });
    const layer = readWavBytes((await download(id, 'part=layer&format=wav')).body as Buffer);
    expect(layer.samples.every((channel) => channel.every((v) => v === 0))).toBe(true);
    const { id: other } = await finishedJob({ amount: '0.5', format: 'mp3' });
    const mp3 = await download(other, 'part=layer');
    expect(mp3.headers['content-type']).toBe('audio/mpeg');
    expect(mp3.headers['content-disposition']).toMatch(/\.layer\.mp3"/);
    const file = `${clip}.layer.mp3`;
    await writeFile(file, mp3.body as Buffer);
    expect((await probe(file)).seconds).toBeCloseTo(6, 1);
  });

  it('with a loudness target, is the layer at the result’s level: gain · input + layer = result', async () => {
    const { id, output } = await finishedJob({ amount: '0.6', loudness: '-24' });
    const gain = 10 ** (output.loudness!.gainDb / 20);
    expect(Math.abs(output.loudness!.gainDb)).toBeGreaterThan(1);
    const result = readWavBytes((await download(id, 'format=wav')).body as Buffer);
    const layer = readWavBytes((await download(id, 'format=wav&part=layer')).body as Buffer);
    expect(worstMismatch(clipWav, layer, result, gain)).toBeLessThanOrEqual(1);
    expect(worstMismatch(clipWav, layer, result, 1)).toBeGreaterThan(100);
  });

  it('follows a section: the layer covers start…end, aligned with that stretch of the input', async () => {
    const { id } = await finishedJob({ start: '1', end: '3.5' });
    const result = readWavBytes((await download(id, 'format=wav')).body as Buffer);
    const layer = readWavBytes((await download(id, 'format=wav&part=layer')).body as Buffer);
    expect(layer.frames).toBe(result.frames);
    expect(layer.frames).toBe(2.5 * 44100);
    expect(worstMismatch(clipWav, layer, result, 1, 44100)).toBeLessThanOrEqual(1);
  });

  it('refuses an unknown part with a 400 naming it', async () => {
    const { id } = await finishedJob({ amount: '0.2' });
    const res = await request(server.app).get(`/api/jobs/${id}/result?part=drums`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_PARAMETER');
    expect(res.body.error.message).toContain('part');
  });
});
