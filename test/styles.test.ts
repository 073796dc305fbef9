import { readFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifest } from '../node_app/server/adapters/inference/manifest.js';
import { binaryParser, makeClip, readWavBytes, type WavSummary } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Every style the manifest ships, run for real through the API on the same clip.
const manifest = await loadManifest(path.resolve('models'));
const styleIds = manifest.styles.map((s) => s.id);

let server: TestServer;
let clip: string;
let dry: WavSummary;
const outputs = new Map<string, WavSummary>();

beforeAll(async () => {
  server = await startTestServer();
  clip = await makeClip({ seconds: 2, sampleRate: 44100, channels: 2, extension: 'wav' });
  dry = readWavBytes(await readFile(clip));
});
afterAll(async () => {
  await server.close();
});

/** Mean absolute difference between two clips, in 16-bit steps. */
function distance(a: WavSummary, b: WavSummary): number {
  let sum = 0;
  for (let c = 0; c < a.channels; c++) for (let i = 0; i < a.frames; i++) sum += Math.abs(a.samples[c][i] - b.samples[c][i]);
  return sum / (a.channels * a.frames);
}

describe('every bundled style', () => {
  it('credits every recording it plays with its licence, in the style list that the About page shows', async () => {
    const res = await request(server.app).get('/api/styles');
    const listed = new Map((res.body as { styles: { id: string; credit?: string; license?: string; texture?: string }[] }).styles.map((s) => [s.id, s]));
    const recorded = manifest.styles.filter((s) => s.texture);
    expect(recorded.length).toBeGreaterThan(0);
    for (const style of recorded) {
      expect(listed.get(style.id)?.credit, style.id).toMatch(/CC|public domain/i);
      // The licence the credit line names, as an SPDX id: CC BY-SA wins over CC BY in a loop that holds both.
      const named = /BY-SA 3\.0/.test(style.credit!) ? 'CC-BY-SA-3.0' : /CC0/.test(style.credit!) ? 'CC0-1.0' : 'CC-BY-3.0';
      expect(listed.get(style.id)?.license, style.id).toBe(named);
    }
    for (const style of listed.values()) expect(style.texture).toBeUndefined();
  });

  it.each(styleIds)('%s keeps duration, rate and channels, never clips, and changes the music', async (style) => {
    const res = await request(server.app).post('/api/enrich').attach('audio', clip).field({ style, seed: '11' }).buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    const out = readWavBytes(res.body as Buffer);
    expect(out).toMatchObject({ sampleRate: 44100, channels: 2, frames: dry.frames });
    const peak = Math.max(...out.samples.map((channel) => channel.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    expect(peak).toBeLessThan(32767);
    expect(distance(out, dry)).toBeGreaterThan(100);
    outputs.set(style, out);
  });

  it('gives each style a sound of its own', () => {
    expect(outputs.size).toBe(styleIds.length);
    for (let i = 0; i < styleIds.length; i++) {
      for (let j = i + 1; j < styleIds.length; j++) {
        expect(distance(outputs.get(styleIds[i])!, outputs.get(styleIds[j])!), `${styleIds[i]} vs ${styleIds[j]}`).toBeGreaterThan(100);
      }
    }
  });

  it('mixes styles inside the model: a mix is not the average of its parts', async () => {
    const [a, b] = styleIds;
    const res = await request(server.app).post('/api/enrich').attach('audio', clip).field({ style: `${a}:0.5,${b}:0.5`, seed: '11' }).buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    const mix = readWavBytes(res.body as Buffer);
    const average: WavSummary = {
      ...mix,
      samples: mix.samples.map((_, c) => outputs.get(a)!.samples[c].map((v, i) => (v + outputs.get(b)!.samples[c][i]) / 2)),
    };
    expect(distance(mix, outputs.get(a)!)).toBeGreaterThan(100);
    expect(distance(mix, outputs.get(b)!)).toBeGreaterThan(100);
    // Averaging finished outputs would land here at zero; a mix made from blended style embeddings does not.
    expect(distance(mix, average)).toBeGreaterThan(50);
  });
});
