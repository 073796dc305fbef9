import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipeSchema, type BatchView } from '../node_app/contract/index.js';
import { binaryParser, fixtureDir, makeClip, readWavBytes } from './helpers/audio.js';
import { ebur128, SYSTEM_FFMPEG } from './helpers/ebur128.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { openZip } from './helpers/zip.js';

const run = promisify(execFile);

/** Album mode through the real server (embedded): real ffmpeg, real models, the zip opened by unzip and Python. */
describe('album mode: POST /api/batches, GET /api/batches/:id, its zip, DELETE', () => {
  let server: TestServer;
  let stereo: string;
  let mono: string;
  let tiny: string;
  beforeAll(async () => {
    // Small limits, easy to pass on purpose: a file 1 MB, the album 2 MB (the stereo clip is 529 kB).
    server = await startTestServer({ MAX_UPLOAD_MB: '1', MAX_BATCH_MB: '2' });
    stereo = await makeClip({ seconds: 3, sampleRate: 44100, channels: 2, extension: 'wav' }); // 529 kB
    mono = await makeClip({ seconds: 2, sampleRate: 22050, channels: 1, codec: ['-c:a', 'libmp3lame'], extension: 'mp3' });
    tiny = await makeClip({ seconds: 0.3, sampleRate: 8000, channels: 1, extension: 'wav' });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function settledBatch(id: string): Promise<BatchView> {
    const view = (await request(server.app).get(`/api/batches/${id}`)).body as BatchView;
    await Promise.all(view.jobs.map((job) => server.jobs.settled(job.id)));
    return (await request(server.app).get(`/api/batches/${id}`)).body as BatchView;
  }

  it('enriches every file with the same fields and one seed, and downloads one zip of results named after the inputs, recipe.json and CREDITS.txt', async () => {
    const created = await request(server.app)
      .post('/api/batches')
      .attach('audio', stereo, 'Night drive.wav')
      .attach('audio', mono, 'Night drive.mp3')
      .attach('audio', tiny, 'Café: intro?.wav')
      .field({ style: 'rain', amount: '0.6', format: 'wav' });
    expect(created.status).toBe(202);
    const batch = created.body as BatchView;
    expect(created.headers.location).toBe(`/api/batches/${batch.id}`);
    expect(batch.jobs.map((job) => job.name)).toEqual(['Night drive.wav', 'Night drive.mp3', 'Café: intro?.wav']);
    expect(new Set(batch.jobs.map((job) => job.id)).size).toBe(3);
    // The album's seed: drawn once, the same for every song.
    expect(batch.params).toMatchObject({ style: 'rain', amount: 0.6, format: 'wav' });

    // The download waits for every song.
    const early = await request(server.app).get(`/api/batches/${batch.id}/download`);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('BATCH_NOT_DONE');

    const done = await settledBatch(batch.id);
    expect(done).toMatchObject({ id: batch.id, status: 'done', progress: 1, links: { download: `/api/batches/${batch.id}/download` } });
    expect(done.jobs.map((job) => job.status)).toEqual(['done', 'done', 'done']);
    const seeds = await Promise.all(done.jobs.map(async (job) => (await request(server.app).get(`/api/jobs/${job.id}`)).body.params.seed as number));
    expect(new Set(seeds)).toEqual(new Set([done.params.seed]));

    const res = await request(server.app).get(`/api/batches/${batch.id}/download`).buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toBe('attachment; filename="album.rain.enriched.zip"');
    const zip = await openZip(res.body as Buffer);
    expect(zip.unzipTest).toContain('No errors detected');
    const names = ['recipe.json', 'CREDITS.txt', 'Night drive.rain.enriched.wav', 'Night drive (2).rain.enriched.wav', 'Café_ intro.rain.enriched.wav'];
    expect(zip.entries.map((entry) => entry.name)).toEqual(names);

    // Each result is the job's own WAV master, byte for byte, and keeps its input's length, rate and channels.
    for (const [index, job] of done.jobs.entries()) {
      const own = await request(server.app).get(`/api/jobs/${job.id}/result`).buffer(true).parse(binaryParser);
      const entry = zip.entries[index + 2].data;
      expect(entry.equals(own.body as Buffer), names[index + 2]).toBe(true);
    }
    const wavs = zip.entries.slice(2).map((entry) => readWavBytes(entry.data));
    expect(wavs.map(({ sampleRate, channels }) => [sampleRate, channels])).toEqual([[44100, 2], [22050, 1], [8000, 1]]);
    expect(wavs[0].seconds).toBeCloseTo(3, 3);
    expect(wavs[2].seconds).toBeCloseTo(0.3, 3);
    // Enriched: the layer is in it, not the input handed back.
    const input = readWavBytes(await readFile(stereo));
    expect(wavs[0].samples.some((channel, c) => channel.some((v, i) => Math.abs(v - input.samples[c][i]) > 64))).toBe(true);

    const recipe = JSON.parse(zip.entries[0].data.toString('utf8')) as Record<string, unknown>;
    expect(recipe).toMatchObject({ app: 'noise-enricher', version: 1, album: batch.id, style: 'rain', amount: 0.6, seed: done.params.seed, format: 'wav' });
    expect(recipe.songs).toEqual(done.jobs.map((job, index) => ({ input: job.name, job: job.id, file: names[index + 2] })));
    // The web app's "Use a recipe" reads it as any job's recipe: the album's fields, its songs aside.
    expect(recipeSchema.parse(recipe)).toMatchObject({ style: 'rain', amount: 0.6, seed: done.params.seed, format: 'wav' });

    const credits = zip.entries[1].data.toString('utf8');
    const styles = (await request(server.app).get('/api/styles')).body.styles as Array<{ id: string; credit?: string }>;
    expect(credits).toContain(`style rain, amount 0.6, seed ${done.params.seed}`);
    expect(credits).toContain(styles.find((style) => style.id === 'rain')!.credit!);
    expect(credits).toContain('shared under CC BY-SA 3.0');
    expect(credits).toContain('- Night drive (2).rain.enriched.wav (from "Night drive.mp3")');

    // Deleting the album deletes every song and every file.
    expect((await request(server.app).delete(`/api/batches/${batch.id}`)).status).toBe(204);
    expect((await request(server.app).get(`/api/batches/${batch.id}`)).body.error.code).toBe('BATCH_NOT_FOUND');
    for (const job of done.jobs) expect((await request(server.app).get(`/api/jobs/${job.id}`)).status).toBe(404);
    expect(await server.dataFiles()).toEqual([]);
  });

  it('packs a compressed format encoded for the download, and goes when its time is up, with all its songs', async () => {
    const created = await request(server.app).post('/api/batches').attach('audio', tiny, 'a.wav').attach('audio', tiny, 'b.wav').field({ style: 'vinyl', seed: '9', format: 'flac' });
    expect(created.status).toBe(202);
    const batch = await settledBatch((created.body as BatchView).id);
    expect(batch.params.seed).toBe(9);
    const res = await request(server.app).get(`/api/batches/${batch.id}/download`).buffer(true).parse(binaryParser);
    const zip = await openZip(res.body as Buffer);
    expect(zip.entries.map((entry) => entry.name)).toEqual(['recipe.json', 'CREDITS.txt', 'a.vinyl.enriched.flac', 'b.vinyl.enriched.flac']);
    for (const entry of zip.entries.slice(2)) expect(entry.data.subarray(0, 4).toString('latin1')).toBe('fLaC');

    server.advanceClock(server.config.resultTtlMs + 1_000);
    await server.jobs.sweep();
    expect((await request(server.app).get(`/api/batches/${batch.id}`)).status).toBe(404);
    for (const job of batch.jobs) expect((await request(server.app).get(`/api/jobs/${job.id}`)).status).toBe(404);
    expect(await server.dataFiles()).toEqual([]);
  });

  // At −18 LUFS the gain lowers the album; at −12 it raises it by 2 dB, which takes the loud song's true peak to
  // its limiter's ceiling (a limiter that takes loudness is the one thing that would move the songs' levels apart).
  it.each([
    [-18, 0.5],
    [-12, 0.5],
  ])('levels an album to %d LUFS with one gain: the songs keep their loudness relative to each other within %d LU (ffmpeg ebur128 as the meter)', async (target, kept) => {
    // Two songs 12 dB apart: the quiet one must stay about as much quieter, not be raised to the loud one's level.
    const dir = await fixtureDir();
    const loud = await makeClip({ seconds: 5, sampleRate: 44100, channels: 2, extension: 'wav' }); // 882 kB
    const quiet = path.join(dir, 'album-quiet.wav');
    await run(SYSTEM_FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-i', loud, '-af', 'volume=-12dB', '-c:a', 'pcm_s16le', quiet]);
    const created = await request(server.app).post('/api/batches').attach('audio', loud, 'loud.wav').attach('audio', quiet, 'quiet.wav').field({ style: 'rain', seed: '4', loudness: String(target) });
    expect(created.status).toBe(202);
    const id = (created.body as BatchView).id;
    let batch = await settledBatch(id);
    // Measured once every song is done; until then the album is still at work and its zip not ready.
    for (let tries = 0; batch.status !== 'done' && tries < 120; tries++) {
      await sleep(250);
      batch = (await request(server.app).get(`/api/batches/${id}`)).body as BatchView;
    }
    expect(batch).toMatchObject({ status: 'done', params: { loudness: target }, loudness: { target } });
    const levelled = await request(server.app).get(`/api/batches/${id}/download`).buffer(true).parse(binaryParser);
    expect(levelled.status).toBe(200);
    const zip = await openZip(levelled.body as Buffer);
    expect(zip.entries.map((entry) => entry.name)).toEqual(['recipe.json', 'CREDITS.txt', 'loud.rain.enriched.wav', 'quiet.rain.enriched.wav']);
    expect(zip.entries[1].data.toString('utf8')).toMatch(new RegExp(`Album loudness: -\\d+(\\.\\d+)? LUFS for the album as a whole \\(target ${target}\\), one gain of -?\\d`));

    // As made (each song's own result) and as levelled for the album (the zip), each read by ffmpeg.
    const files: Record<string, string> = {};
    for (const [index, name] of ['loud', 'quiet'].entries()) {
      const made = await request(server.app).get(`/api/jobs/${batch.jobs[index].id}/result`).buffer(true).parse(binaryParser);
      files[`${name}-made`] = path.join(dir, `album-${id}-${name}-made.wav`);
      files[`${name}-album`] = path.join(dir, `album-${id}-${name}-album.wav`);
      await writeFile(files[`${name}-made`], made.body as Buffer);
      await writeFile(files[`${name}-album`], zip.entries[index + 2].data);
    }
    const made = { loud: await ebur128(files['loud-made']), quiet: await ebur128(files['quiet-made']) };
    const album = { loud: await ebur128(files['loud-album']), quiet: await ebur128(files['quiet-album']) };
    // One gain: the difference between the songs is kept (within the limiter's share on the loud one's peaks).
    const shift = Math.abs(album.loud.integrated - album.quiet.integrated - (made.loud.integrated - made.quiet.integrated));
    expect(shift).toBeLessThan(kept);
    expect(made.loud.integrated - made.quiet.integrated).toBeGreaterThan(8);
    // The album as a whole, played one song after the other, is at the target; every song's true peak at most −1 dBTP.
    const whole = path.join(dir, `album-${id}-whole.wav`);
    await run(SYSTEM_FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-i', files['loud-album'], '-i', files['quiet-album'], '-filter_complex', 'concat=n=2:v=0:a=1', whole]);
    const wholeReading = await ebur128(whole);
    expect(Math.abs(wholeReading.integrated - target)).toBeLessThanOrEqual(1);
    for (const song of Object.values(album)) expect(song.truePeak).toBeLessThanOrEqual(-1);
    // The songs' own results are left as made.
    expect(made.loud.integrated).not.toBeCloseTo(album.loud.integrated, 0);

    const recipe = JSON.parse(zip.entries[0].data.toString('utf8')) as { loudness: number; albumLoudness: { gainDb: number } };
    expect(recipe.loudness).toBe(target);
    expect(recipe.albumLoudness.gainDb).toBe(batch.loudness!.gainDb);
    expect((await request(server.app).delete(`/api/batches/${id}`)).status).toBe(204);
    expect(await server.dataFiles()).toEqual([]);
  });

  it('a song that does not decode fails alone: the album is done, its zip holds the others and says why that one is missing', async () => {
    const created = await request(server.app)
      .post('/api/batches')
      .attach('audio', tiny, 'good.wav')
      .attach('audio', Buffer.from('just some words, not a recording\n'.repeat(50)), 'notes.wav')
      .field({ style: 'rain', seed: '2' });
    expect(created.status).toBe(202);
    const batch = await settledBatch((created.body as BatchView).id);
    expect(batch.status).toBe('done');
    expect(batch.jobs.map((job) => [job.status, job.error?.code])).toEqual([['done', undefined], ['failed', 'NOT_AUDIO']]);
    const zip = await openZip((await request(server.app).get(`/api/batches/${batch.id}/download`).buffer(true).parse(binaryParser)).body as Buffer);
    expect(zip.entries.map((entry) => entry.name)).toEqual(['recipe.json', 'CREDITS.txt', 'good.rain.enriched.wav']);
    const recipe = JSON.parse(zip.entries[0].data.toString('utf8')) as { songs: Array<{ input: string; error?: { code: string } }> };
    expect(recipe.songs[1]).toMatchObject({ input: 'notes.wav', error: { code: 'NOT_AUDIO' } });
    expect(zip.entries[1].data.toString('utf8')).toContain('- "notes.wav": not enriched (');
    expect((await request(server.app).delete(`/api/batches/${batch.id}`)).status).toBe(204);
    expect(await server.dataFiles()).toEqual([]);
  });

  it('answers 404 for an id that is no album, a single job’s included', async () => {
    const single = await request(server.app).post('/api/jobs').attach('audio', tiny);
    for (const id of ['0'.repeat(32), 'nope', single.body.id as string]) {
      const res = await request(server.app).get(`/api/batches/${id}`);
      expect(res.status, id).toBe(404);
      expect(res.body.error.code).toBe('BATCH_NOT_FOUND');
      expect((await request(server.app).delete(`/api/batches/${id}`)).status).toBe(404);
      expect((await request(server.app).get(`/api/batches/${id}/download`)).status).toBe(404);
    }
    await server.jobs.settled(single.body.id as string);
    await server.jobs.remove(single.body.id as string);
  });

  describe('refusals name what is wrong and leave nothing behind', () => {
    const cases: Array<[string, () => request.Test, number, string, RegExp]> = [
      ['one file', () => request(server.app).post('/api/batches').attach('audio', tiny), 400, 'BATCH_FILE_COUNT', /2 to 20 files.*had 1\. Send one file to POST \/api\/jobs/],
      ['no file', () => request(server.app).post('/api/batches').field({ style: 'rain' }), 400, 'BATCH_FILE_COUNT', /had 0/],
      [
        '21 files',
        () => Array.from({ length: 21 }).reduce<request.Test>((req, _, i) => req.attach('audio', tiny, `song ${i}.wav`), request(server.app).post('/api/batches')),
        400,
        'BATCH_FILE_COUNT',
        /had more than 20/,
      ],
      [
        'an empty file among good ones',
        () => request(server.app).post('/api/batches').attach('audio', tiny, 'good.wav').attach('audio', Buffer.alloc(0), 'Empty one.wav').attach('audio', tiny, 'also good.wav'),
        400,
        'EMPTY_FILE',
        /^"Empty one\.wav": The uploaded file is empty/,
      ],
      [
        'a file over the single upload’s limit among good ones',
        () => request(server.app).post('/api/batches').attach('audio', tiny, 'good.wav').attach('audio', Buffer.alloc(1_100_000, 1), 'huge.wav'),
        413,
        'FILE_TOO_LARGE',
        /larger than 1 MB/,
      ],
      [
        'files larger together than the album’s limit',
        () => Array.from({ length: 5 }).reduce<request.Test>((req, _, i) => req.attach('audio', stereo, `song ${i}.wav`), request(server.app).post('/api/batches')),
        413,
        'BATCH_TOO_LARGE',
        /together are larger than 2 MB/,
      ],
      ['loudness=match', () => request(server.app).post('/api/batches').attach('audio', tiny).attach('audio', tiny).field({ loudness: 'match' }), 400, 'INVALID_PARAMETER', /^loudness: an album is levelled/],
      ['a bad field', () => request(server.app).post('/api/batches').attach('audio', tiny).attach('audio', tiny).field({ amount: '3' }), 400, 'INVALID_PARAMETER', /^amount:/],
      ['a texture', () => request(server.app).post('/api/batches').attach('audio', tiny).attach('texture', tiny), 400, 'BAD_UPLOAD', /"texture"/],
    ];
    it.each(cases)('%s', async (_name, send, status, code, message) => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toMatch(message);
      expect(await server.dataFiles()).toEqual([]);
    });
  });
});
