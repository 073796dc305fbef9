import { execFile } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../node_app/server/adapters/media/ffmpeg/binary.js';
import { streamWithFfmpeg } from '../node_app/server/adapters/media/ffmpeg/decode.js';
import { encodeWithFfmpeg } from '../node_app/server/adapters/media/ffmpeg/encode.js';
import { probeAudio } from '../node_app/server/adapters/media/ffmpeg/probe.js';
import { FfmpegError } from '../node_app/server/adapters/media/ffmpeg/run.js';
import { ProcessLauncher } from '../node_app/server/adapters/media/process-launcher.js';
import { makeClip } from './helpers/audio.js';

const ffmpeg = resolveFfmpeg(process.env.FFMPEG_PATH).path;

/**
 * A FIFO stands for any input on which ffmpeg waits instead of working (a live stream, a slow device): ffmpeg
 * blocks on it using no CPU, which only a wall clock notices.
 */
async function stalledInput(firstBytes: Buffer): Promise<{ file: string; writer: WriteStream }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enricher-stall-'));
  const file = path.join(dir, 'input');
  await promisify(execFile)('mkfifo', [file]);
  const writer = createWriteStream(file);
  writer.write(firstBytes);
  return { file, writer };
}

let writer: WriteStream | null = null;
afterEach(() => {
  writer?.destroy();
  writer = null;
});
const launcher = new ProcessLauncher();
afterAll(() => launcher.close());

describe('ffmpeg that makes no progress is stopped by the wall clock', () => {
  it('a decode that stalls after 15 s of audio fails as a timeout after the stall limit, long before the total one', async () => {
    const wav = await readFile(await makeClip({ seconds: 20, sampleRate: 8000, channels: 1, extension: 'wav' }));
    // More than ffmpeg reads ahead to analyse a stream from a pipe, so audio comes out before the stall.
    const input = await stalledInput(wav.subarray(0, 44 + 8000 * 2 * 15));
    writer = input.writer;
    const started = Date.now();
    let frames = 0;
    const decoding = (async () => {
      for await (const chunk of streamWithFfmpeg(launcher, ffmpeg, input.file, { sampleRate: 8000, channels: 1, demuxer: 'wav', maxSeconds: 60, timeoutMs: 60_000, stallTimeoutMs: 5000 })) {
        frames += chunk[0].length;
      }
    })();
    const error = await decoding.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    expect((error as FfmpegError).reason).toBe('timeout');
    // Audio came through before the stall: the limit is on silence from ffmpeg, not on the whole decode.
    expect(frames).toBeGreaterThan(8000);
    // Well under the 60-s total; the 5-s stall limit leaves a loaded machine (CI beside other work, load 30) time
    // to start ffmpeg and get its first audio out, where 2 s did not.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a probe that waits for input fails as a timeout after its limit', async () => {
    const input = await stalledInput(Buffer.from('RIFF'));
    writer = input.writer;
    const started = Date.now();
    await expect(probeAudio(launcher, ffmpeg, input.file, 1000)).rejects.toMatchObject({ reason: 'timeout' });
    // A probe that waited for its input would never end; this bound only allows for a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('a full disk under an encode', () => {
  it('is reported as disk-full, though ffmpeg itself exits 0 when only its trailer fails to write', async () => {
    const wav = await makeClip({ seconds: 1, sampleRate: 22050, channels: 1, extension: 'wav' });
    await expect(encodeWithFfmpeg(launcher, ffmpeg, wav, 'flac', '/dev/full', { timeoutMs: 30_000 })).rejects.toMatchObject({ reason: 'disk-full' });
  });
});
