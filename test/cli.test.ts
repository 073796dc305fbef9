import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { makeClip, readWavFile } from './helpers/audio.js';
import { ebur128 } from './helpers/ebur128.js';

const run = promisify(execFile);
const tsx = path.resolve('node_modules/.bin/tsx');

/** Runs `npm run enrich` the way a person would, and returns what they would see. */
async function enrich(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return enrichIn(undefined, ...args);
}

/**
 * As `npm run enrich` runs it when typed in `folder`: npm starts the script in the repository's root and
 * tells it where it was called from in INIT_CWD.
 */
async function enrichIn(folder: string | undefined, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = folder ? { ...process.env, npm_lifecycle_event: 'enrich', INIT_CWD: folder } : process.env;
  try {
    const { stdout, stderr } = await run(tsx, ['node_app/cli/enrich.ts', ...args], { timeout: 60_000, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the command line', () => {
  it('says in one line that the input file does not exist, without a stack trace', async () => {
    const { code, stderr } = await enrich('no-such-song.mp3');
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('Cannot read no-such-song.mp3: no such file.');
  });

  it('names a bad option or value and shows the usage, without a stack trace', async () => {
    const unknown = await enrich('song.mp3', '--volume', '11');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^Unknown option '--volume'/);
    expect(unknown.stderr).toContain('Usage: npm run enrich');
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
    const amount = await enrich('song.mp3', '--amount', '7');
    expect(amount.stderr.trim()).toBe('INVALID_PARAMETER: amount: must be between 0 and 1');
    const loudness = await enrich('song.mp3', '--loudness', '11');
    expect(loudness.stderr.trim()).toBe('INVALID_PARAMETER: loudness: must be "match" or a loudness in LUFS from -30 to -5');
    const intensity = await enrich('song.mp3', '--intensity', '0:0,4:2');
    expect(intensity.stderr.trim()).toBe('INVALID_PARAMETER: intensity: point 2 ("4:2"): the value must be from 0 to 1');
  });

  it('follows --intensity: the song untouched where it is 0, enriched where it is 1', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'cli-intensity-'));
    try {
      const clip = await makeClip({ seconds: 4, sampleRate: 44100, channels: 2, extension: 'wav' });
      const out = path.join(folder, 'shaped.wav');
      const { code, stdout } = await enrich(clip, '--style', 'rain', '--seed', '3', '--amount', '0.4', '--intensity', '0:0,2:0,2.2:1', '-o', out);
      expect(code).toBe(0);
      expect(stdout).toContain('intensity=0:0,2:0,2.2:1');
      const [input, shaped] = [await readWavFile(clip), await readWavFile(out)];
      const changed = (from: number, to: number) => shaped.samples.some((channel, c) => channel.subarray(from, to).some((v, i) => Math.abs(v - input.samples[c][from + i]) > 1));
      expect(changed(0, 2 * 44100)).toBe(false);
      expect(changed(3 * 44100, 4 * 44100)).toBe(true);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 120_000);

  it('levels the result to --loudness and says what it measured before and after', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'cli-loudness-'));
    try {
      const clip = await makeClip({ seconds: 4, sampleRate: 44100, channels: 2, extension: 'wav' });
      const out = path.join(folder, 'levelled.wav');
      const { code, stdout } = await enrich(clip, '--style', 'rain', '--seed', '3', '--loudness=-16', '-o', out);
      expect(code).toBe(0);
      expect(stdout).toMatch(/loudness: input -[\d.]+ LUFS, true peak -[\d.]+ dBTP -> result -1[56](\.\d+)? LUFS, true peak -[\d.]+ dBTP/);
      const measured = await ebur128(out);
      expect(Math.abs(measured.integrated + 16)).toBeLessThanOrEqual(1);
      expect(measured.truePeak).toBeLessThanOrEqual(-1);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 120_000);

  it('reads paths from the folder it was typed in and writes the result beside the input', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'cli-cwd-'));
    try {
      await mkdir(path.join(folder, 'songs'));
      await copyFile(await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' }), path.join(folder, 'songs', 'Café.wav'));
      const beside = await enrichIn(folder, 'songs/Café.wav', '--style', 'rain', '--seed', '1');
      expect(beside.stderr).toBe('');
      expect(beside.stdout).toMatch(/^songs\/Café\.rain\.enriched\.wav {2}style=rain/);
      const named = await enrichIn(folder, 'songs/Café.wav', '--style', 'Rain', '-o', 'out.MP3');
      expect(named.stdout).toMatch(/^out\.MP3 {2}style=rain/);
      expect((await readdir(folder)).sort()).toEqual(['out.MP3', 'songs']);
      expect((await readdir(path.join(folder, 'songs'))).sort()).toEqual(['Café.rain.enriched.wav', 'Café.wav']);
      const missing = await enrichIn(folder, 'nothing.wav');
      expect(missing.stderr.trim()).toBe('Cannot read nothing.wav: no such file.');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 120_000);

  it('names the styles there are when one is unknown, with no server to ask', async () => {
    const clip = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    const { code, stderr } = await enrich(clip, '--style', 'thunder');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^UNKNOWN_STYLE: Unknown style "thunder"\. Did you mean "thunderstorm"\? The styles are: rain, .*thunderstorm/);
    expect(stderr).not.toContain('/api/styles');
  }, 60_000);
});

describe('starting the server with a bad setting', () => {
  it.each(['node_app/server/main.ts', 'node_app/server/worker-main.ts'])('%s says which variable in one line and exits 1', async (entry) => {
    const failed = await run(tsx, [entry], { timeout: 60_000, env: { ...process.env, PORT: 'abc' } }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe('Invalid configuration: PORT: Invalid input: expected number, received NaN\n');
  });
});
