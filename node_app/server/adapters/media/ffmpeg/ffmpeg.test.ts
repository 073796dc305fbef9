import { execFile } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessLauncher } from '../process-launcher.js';
import { resolveFfmpeg } from './binary.js';
import { streamWithFfmpeg } from './decode.js';
import { describeContainer, OUTPUT_POLICY, streamEncodeArgs } from './policy.js';
import { parseProbe } from './probe.js';

async function folderWith(name: string, mode: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ffmpeg-lookup-'));
  await writeFile(path.join(dir, name), '#!/bin/sh\n');
  await chmod(path.join(dir, name), mode);
  return dir;
}

describe('resolveFfmpeg', () => {
  it('uses FFMPEG_PATH over everything else', async () => {
    const dir = await folderWith('ffmpeg', 0o755);
    expect(resolveFfmpeg('/opt/ffmpeg', { preferSystem: true, searchPath: dir })).toEqual({ path: '/opt/ffmpeg', source: 'FFMPEG_PATH' });
  });

  it('uses the ffmpeg on PATH when a system ffmpeg is configured (the Aptfile one on Heroku)', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'ffmpeg-lookup-'));
    const dir = await folderWith('ffmpeg', 0o755);
    const found = resolveFfmpeg(undefined, { preferSystem: true, searchPath: [empty, dir].join(path.delimiter) });
    expect(found).toEqual({ path: path.join(dir, 'ffmpeg'), source: 'system' });
  });

  it('falls back to the bundled build, with a reason to log, when no usable system ffmpeg is there', async () => {
    const dir = await folderWith('ffmpeg', 0o644);
    const found = resolveFfmpeg(undefined, { preferSystem: true, searchPath: dir });
    expect(found.source).toBe('bundled');
    expect(found.path).toContain('@ffmpeg-installer');
    expect(found.fallbackReason).toMatch(/none is on PATH/);
  });

  it('ignores the system ffmpeg unless asked, so every machine decodes with the same build by default', async () => {
    const dir = await folderWith('ffmpeg', 0o755);
    expect(resolveFfmpeg(undefined, { searchPath: dir })).toMatchObject({ source: 'bundled' });
    expect(resolveFfmpeg(undefined, { searchPath: dir }).fallbackReason).toBeUndefined();
  });
});

describe('parseProbe', () => {
  it('names the whitelisted demuxer among the aliases ffmpeg prints', () => {
    const stderr = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/data/jobs/x/input':",
      '  Duration: 00:01:02.50, start: 0.000000, bitrate: 130 kb/s',
      '    Stream #0:0(und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s (default)',
    ].join('\n');
    expect(parseProbe(stderr)).toEqual({ kind: 'audio', demuxer: 'mov', sampleRate: 44100, channelLayout: 'stereo', durationSeconds: 62.5 });
  });

  it('reports a refused container with the name ffmpeg gives it', () => {
    const stderr = "[hls,applehttp @ 0x2985fc00] Format not on whitelist 'wav,mp3'\nfile:/x: Invalid argument\n";
    expect(parseProbe(stderr)).toEqual({ kind: 'refused', demuxer: 'hls,applehttp' });
  });

  it('says what a refused file is, in words for the refusal', () => {
    expect(describeContainer('hls,applehttp')).toBe('an HLS (m3u8) playlist');
    expect(describeContainer('concat')).toBe('an ffconcat script');
    expect(describeContainer('avi')).toBe('of the kind ffmpeg calls "avi"');
    expect(describeContainer(null)).toBe('in a container that is not accepted');
  });

  it('reports a file with no audio stream as not audio', () => {
    expect(parseProbe('file:/x: Invalid data found when processing input\n')).toEqual({ kind: 'not-audio' });
  });
});

describe('streamWithFfmpeg', () => {
  const launcher = new ProcessLauncher();
  afterAll(() => launcher.close());

  /** A stand-in ffmpeg running `script` for a decode; `$output` is the socket its command line names. */
  async function fakeFfmpeg(script: string): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ffmpeg-fake-'));
    const file = path.join(dir, 'ffmpeg');
    await writeFile(file, `#!/bin/sh\nfor output; do :; done\n${script}\n`);
    await chmod(file, 0o755);
    return file;
  }

  /** Sends `bytes` of zero samples to its output socket, closes it, and exits `code` 300 ms later. */
  const slowToExit = (bytes: number, code: number) =>
    fakeFfmpeg(
      `"${process.execPath}" -e 'const s = require("node:net").connect(process.argv[1].slice(5), () => s.end(Buffer.alloc(Number(process.argv[2]))))' "$output" ${bytes}\nsleep 0.3\nexit ${code}`,
    );

  async function decode(binary: string): Promise<number> {
    let frames = 0;
    for await (const chunk of streamWithFfmpeg(launcher, binary, '/dev/null', { sampleRate: 8000, channels: 1, maxSeconds: 10, timeoutMs: 5000 })) frames += chunk[0].length;
    return frames;
  }

  it('reads to the end when ffmpeg exits well after closing its output (a busy machine), with or without samples', async () => {
    expect(await decode(await slowToExit(4000, 0))).toBe(1000);
    expect(await decode(await slowToExit(0, 0))).toBe(0);
  });

  it('still fails when ffmpeg fails before its output ends', async () => {
    const failing = await fakeFfmpeg('echo "Invalid data found when processing input" >&2\nexit 1');
    await expect(decode(failing)).rejects.toThrow(/Invalid data|exited with code 1/);
  });
});

describe('the output policy', () => {
  it('names, for every compressed format, an encoder and a muxer that the ffmpeg in use has, and encodes with them', async () => {
    const binary = resolveFfmpeg(process.env.FFMPEG_PATH, { preferSystem: process.env.USE_SYSTEM_FFMPEG !== 'false' }).path;
    const list = async (what: string) => (await promisify(execFile)(binary, ['-hide_banner', `-${what}`])).stdout;
    const [muxers, encoders] = await Promise.all([list('muxers'), list('encoders')]);
    for (const [format, { codec, muxer }] of Object.entries(OUTPUT_POLICY)) {
      const encoder = codec[codec.indexOf('-c:a') + 1];
      expect(muxers, format).toMatch(new RegExp(`^\\s*D?E\\s+${muxer}\\s`, 'm'));
      expect(encoders, format).toMatch(new RegExp(`^\\s*A\\S*\\s+${encoder}\\s`, 'm'));
      const args = streamEncodeArgs({ sampleRate: 44100, channels: 2 }, format as keyof typeof OUTPUT_POLICY, 'unix:/tmp/in.sock', '/tmp/out');
      expect(args.slice(args.indexOf('-threads')), format).toEqual(['-threads', '1', ...codec, '-f', muxer, 'file:/tmp/out']);
    }
  });
});
