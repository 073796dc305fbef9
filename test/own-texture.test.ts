import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryParser, fixtureDir, makeClip, readWavBytes } from './helpers/audio.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const run = promisify(execFile);
let server: TestServer;
let song: string;
let texture: string;
let otherTexture: string;

/** A recording the way a person makes one: a steady bed (brown noise) with a few loud knocks. */
async function recording(name: string, seconds: number, knockHz: number): Promise<string> {
  const file = path.join(await fixtureDir(), name);
  await run('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `anoisesrc=color=brown:amplitude=0.05:duration=${seconds}:seed=5`,
    '-f', 'lavfi', '-i', `sine=frequency=${knockHz}:duration=${seconds}:beep_factor=8`,
    '-filter_complex', 'amix=inputs=2:normalize=0', '-ac', '1', '-ar', '32000', file,
  ]);
  return file;
}

beforeAll(async () => {
  server = await startTestServer();
  song = await makeClip({ seconds: 4, sampleRate: 44100, channels: 2, extension: 'wav' });
  texture = await recording('own-knocks.ogg', 6, 700);
  otherTexture = await recording('own-other.ogg', 6, 1500);
});
afterAll(async () => {
  await server.close();
});

function enrich(fields: Record<string, string>, textureFile?: string) {
  let req = request(server.app).post('/api/enrich').attach('audio', song);
  if (textureFile) req = req.attach('texture', textureFile);
  for (const [key, value] of Object.entries(fields)) req = req.field(key, value);
  return req.buffer(true).parse(binaryParser);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('a recording of your own as the style', () => {
  it('weaves the texture into the song, repeatably, and another texture sounds different', async () => {
    const first = await enrich({ style: 'own', seed: '4' }, texture);
    expect(first.status).toBe(200);
    expect(first.headers['x-enrich-style']).toBe('own');
    const again = await enrich({ style: 'own', seed: '4' }, texture);
    const other = await enrich({ style: 'own', seed: '4' }, otherTexture);
    expect(sha256(again.body as Buffer)).toBe(sha256(first.body as Buffer));
    expect(sha256(other.body as Buffer)).not.toBe(sha256(first.body as Buffer));

    const dry = readWavBytes(await readFile(song));
    const wet = readWavBytes(first.body as Buffer);
    expect(wet.frames).toBe(dry.frames);
    let added = 0;
    for (let i = 0; i < dry.frames; i++) added += Math.abs(wet.samples[0][i] - dry.samples[0][i]);
    expect(added / dry.frames).toBeGreaterThan(50);
  });

  it('mixes with the built-in styles', async () => {
    const res = await enrich({ style: 'own:0.6,rain:0.4', seed: '1' }, texture);
    expect(res.status).toBe(200);
    expect(res.headers['x-enrich-style']).toBe('own:0.6,rain:0.4');
  });

  it('keeps the texture with a job and records its SHA-256 in the recipe', async () => {
    const created = await request(server.app).post('/api/jobs').attach('audio', song).attach('texture', texture).field({ style: 'own', seed: '9' });
    expect(created.status).toBe(202);
    const id = (created.body as { id: string }).id;
    await server.jobs.settled(id);
    // The refusals below compare the data folder before and after: let this job's listening copies be made first.
    await server.copiesMade(id);
    const recipe = await request(server.app).get(`/api/jobs/${id}/recipe`);
    expect(recipe.body).toMatchObject({ style: 'own', seed: 9, textureSha256: sha256(await readFile(texture)) });
  });

  it.each([
    { name: 'style own without a texture', fields: { style: 'own' }, file: undefined, status: 400, code: 'MISSING_TEXTURE' },
    { name: 'a texture no style uses', fields: { style: 'rain' }, file: 'texture', status: 400, code: 'INVALID_PARAMETER' },
    { name: 'a texture under 3 s', fields: { style: 'own' }, file: 'short', status: 400, code: 'INVALID_PARAMETER' },
    { name: 'a texture that is text', fields: { style: 'own' }, file: 'text', status: 415, code: 'NOT_AUDIO' },
    { name: 'a texture over 2 minutes', fields: { style: 'own' }, file: 'long', status: 413, code: 'TOO_LONG' },
  ])('refuses $name with $status $code, naming the texture, and keeps nothing', async ({ fields, file, status, code }) => {
    const dir = await fixtureDir();
    const files: Record<string, () => Promise<string>> = {
      texture: async () => texture,
      short: () => recording('own-short.ogg', 1, 700),
      long: () => recording('own-long.ogg', 125, 700),
      text: async () => {
        const notes = path.join(dir, 'notes.mp3');
        await writeFile(notes, 'not a recording at all, just words\n'.repeat(50));
        return notes;
      },
    };
    const before = await server.dataFiles();
    const res = await enrich(fields, file ? await files[file]() : undefined);
    expect(res.status).toBe(status);
    const body = JSON.parse((res.body as Buffer).toString()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(/texture/i);
    expect(await server.dataFiles()).toEqual(before);
  });
});
