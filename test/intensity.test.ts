import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryParser, makeClip, readWavBytes, type WavSummary } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let clip: string;
let input: WavSummary;
const RATE = 44100;
beforeAll(async () => {
  server = await startTestServer();
  clip = await makeClip({ seconds: 6, sampleRate: RATE, channels: 2, extension: 'wav' });
  input = readWavBytes(await readFile(clip));
});
afterAll(async () => {
  await server?.close();
});

async function finishedJob(fields: Record<string, string>): Promise<{ id: string; params: Record<string, unknown> }> {
  const created = await request(server.app).post('/api/jobs').attach('audio', clip).field({ style: 'rain', seed: '21', amount: '0.4', ...fields });
  expect(created.status).toBe(202);
  const job = await server.jobs.settled(created.body.id as string);
  expect(job.status).toBe('done');
  // The refusals compare the data folder before and after: a job's listening copies, made after it is done, go first.
  await server.copiesMade(job.id);
  return { id: job.id, params: (await request(server.app).get(`/api/jobs/${job.id}`)).body.params };
}

async function download(id: string, part: 'mix' | 'layer' = 'mix'): Promise<WavSummary> {
  const res = await request(server.app).get(`/api/jobs/${id}/result?format=wav${part === 'layer' ? '&part=layer' : ''}`).buffer(true).parse(binaryParser);
  expect(res.status).toBe(200);
  return readWavBytes(res.body as Buffer);
}

/** The largest |a − b| over frames [from, to) of every channel, in 16-bit steps; `offset` shifts b. */
function worstDifference(a: WavSummary, b: WavSummary, from: number, to: number, offset = 0): number {
  let worst = 0;
  for (let c = 0; c < a.channels; c++) for (let i = from; i < to; i++) worst = Math.max(worst, Math.abs(a.samples[c][i] - b.samples[c][i + offset]));
  return worst;
}

function rmsOf(wav: WavSummary, from: number, to: number): number {
  let sum = 0;
  for (const channel of wav.samples) for (let i = from; i < to; i++) sum += (channel[i] / 32768) ** 2;
  return Math.sqrt(sum / ((to - from) * wav.channels));
}

describe('the intensity curve', () => {
  it('leaves the song untouched where the curve is 0 and enriches it where it is 1, and the recipe keeps it', async () => {
    const { id, params } = await finishedJob({ intensity: ' 0:0, 3:0 ,3.5:1' });
    expect(params.intensity).toBe('0:0,3:0,3.5:1');
    const result = await download(id);
    expect(result.frames).toBe(input.frames);
    expect(worstDifference(result, input, 0, 3 * RATE)).toBeLessThanOrEqual(1);
    const difference = { ...result, samples: result.samples.map((channel, c) => channel.map((v, i) => v - input.samples[c][i])) };
    expect(rmsOf(difference, 4 * RATE, 6 * RATE)).toBeGreaterThan(0.005);
    const recipe = await request(server.app).get(`/api/jobs/${id}/recipe`);
    expect(recipe.body.intensity).toBe('0:0,3:0,3.5:1');
  });

  it('shapes the added layer sample by sample: a ramp from 0 to 1 scales the layer made without a curve', async () => {
    const plain = await download((await finishedJob({})).id, 'layer');
    const ramped = await download((await finishedJob({ intensity: '0:0,6:1' })).id, 'layer');
    expect(rmsOf(plain, 0, plain.frames)).toBeGreaterThan(0.005);
    let worst = 0;
    for (let c = 0; c < plain.channels; c++) {
      for (let i = 0; i < plain.frames; i++) worst = Math.max(worst, Math.abs(ramped.samples[c][i] - (i / RATE / 6) * plain.samples[c][i]));
    }
    // Each stem is rounded to 16 bits from the float mix, and the input is subtracted again: 2 steps at most.
    expect(worst).toBeLessThanOrEqual(2);
  });

  it("follows the song's clock in a section, kept alone or kept whole", async () => {
    // Enriched up to 3 s of the song, then not at all: from 1 s into a section starting at 2 s, nothing is added.
    const intensity = '0:1,3:1,3.001:0';
    const alone = await download((await finishedJob({ start: '2', end: '5', intensity })).id, 'layer');
    expect(alone.frames).toBe(3 * RATE);
    expect(rmsOf(alone, 0, Math.round(0.9 * RATE))).toBeGreaterThan(0.002);
    expect(worstDifference(alone, { ...alone, samples: alone.samples.map((c) => c.map(() => 0)) }, Math.round(1.01 * RATE), alone.frames)).toBe(0);
    const whole = await download((await finishedJob({ start: '2', end: '5', keep: 'whole', intensity })).id, 'layer');
    expect(whole.frames).toBe(input.frames);
    expect(rmsOf(whole, 2 * RATE, Math.round(2.9 * RATE))).toBeGreaterThan(0.002);
    expect(rmsOf(whole, Math.round(3.01 * RATE), whole.frames)).toBe(0);
    // Inside the 50-ms fades that splice it into the song, the section kept whole is the same samples as the section alone.
    const fade = Math.round(0.05 * RATE);
    expect(worstDifference(alone, whole, fade, alone.frames - fade, 2 * RATE)).toBeLessThanOrEqual(1);
  });

  it.each([
    ['0:0,3:x', 'intensity: point 2 ("3:x"): "x" is not a number from 0 to 1'],
    ['0:0,3:1.5', 'intensity: point 2 ("3:1.5"): the value must be from 0 to 1'],
    ['0:0,-1:1', 'intensity: point 2 ("-1:1"): "-1" is not a number of seconds'],
    ['0:0,5:1,4:0', 'intensity: point 3 ("4:0"): times must increase; 4 s does not come after 5 s'],
    ['0:0,10', 'intensity: point 2 ("10") must be seconds:value, such as 10.5:0.8'],
    ['0:0,,2:1', 'intensity: point 2 ("") must be seconds:value, such as 10.5:0.8'],
    [Array.from({ length: 101 }, (_, i) => `${i}:1`).join(','), 'intensity: has 101 points; a curve may have at most 100'],
  ])('refuses intensity=%s with a 400 naming the point, leaving nothing behind', async (value, message) => {
    const before = await server.dataFiles();
    const res = await request(server.app).post('/api/jobs').attach('audio', clip).field({ intensity: value });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'INVALID_PARAMETER', message });
    expect(await server.dataFiles()).toEqual(before);
  });
});
