import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrichPcm, type StyleGenerator } from '../node_app/engine/enrich.js';
import { limitPeaksInPlace } from '../node_app/engine/limiter.js';
import type { Pcm } from '../node_app/engine/pcm.js';
import { decodeWithFfmpeg, resolveFfmpeg } from '../node_app/server/adapters/ffmpeg.js';
import { loadManifest } from '../node_app/server/adapters/manifest.js';
import { createOnnxGenerator } from '../node_app/server/adapters/onnx-generator.js';
import { readWav, readWavFile, writeWav16 } from '../node_app/server/adapters/wav.js';
import { fixtureDir, makeClip } from './helpers/audio.js';
import { enrichPcm as referenceEnrichPcm } from './reference/enrich.js';
import { limitPeaksInPlace as referenceLimit } from './reference/limiter.js';
import { encodeWav16 as referenceEncodeWav16, readWav as referenceReadWav } from './reference/wav.js';

// The speed work must not change a single output byte. test/reference/ holds the code as it was before it
// (engine and WAV codec); each test runs old and new side by side on the same input, and for the engine
// through whatever model models/ holds today, so it stays valid when the model is retrained.

const run = promisify(execFile);
const ffmpeg = resolveFfmpeg(process.env.FFMPEG_PATH).path;

/** Where two sets of channels first differ bit for bit, or null; cheaper to compare and read than a deep diff. */
function firstDifference(actual: Float32Array[], expected: Float32Array[]): string | null {
  if (actual.length !== expected.length) return `${actual.length} channels instead of ${expected.length}`;
  for (let c = 0; c < expected.length; c++) {
    const a = new Uint32Array(actual[c].buffer, actual[c].byteOffset, actual[c].length);
    const e = new Uint32Array(expected[c].buffer, expected[c].byteOffset, expected[c].length);
    if (a.length !== e.length) return `channel ${c} has ${a.length} samples instead of ${e.length}`;
    for (let i = 0; i < e.length; i++) {
      if (a[i] !== e[i]) return `channel ${c} sample ${i}: ${actual[c][i]} instead of ${expected[c][i]}`;
    }
  }
  return null;
}

function clone(pcm: Pcm): Pcm {
  return { sampleRate: pcm.sampleRate, channels: pcm.channels.map((c) => c.slice()) };
}

/** Music-like test material that also overshoots the limiter's ceiling, so every stage has work to do. */
function material(seconds: number, sampleRate: number, channels: number): Pcm {
  const length = Math.round(seconds * sampleRate);
  return {
    sampleRate,
    channels: Array.from({ length: channels }, (_, c) =>
      Float32Array.from({ length }, (_, i) => {
        const t = i / sampleRate;
        return 0.7 * Math.sin(2 * Math.PI * (220 + 110 * c) * t) * (0.6 + 0.5 * Math.sin(2 * Math.PI * 2 * t)) + (i % 9000 < 40 ? 0.6 : 0);
      }),
    ),
  };
}

describe('enrichment after the speed work', () => {
  let model: StyleGenerator;
  let styles: number;
  beforeAll(async () => {
    const manifest = await loadManifest(path.resolve('models'));
    model = await createOnnxGenerator(manifest);
    styles = manifest.styles.length;
  });

  const cases = [
    { name: '44.1 kHz stereo, default batch', sampleRate: 44100, channels: 2, seconds: 4, batchSize: undefined },
    { name: '48 kHz mono, batch 3 (resampled wet layer)', sampleRate: 48000, channels: 1, seconds: 3.3, batchSize: 3 },
    { name: '22.05 kHz stereo, batch 1', sampleRate: 22050, channels: 2, seconds: 2.1, batchSize: 1 },
  ];

  it.each(cases)('gives the same samples as before for $name with the real model', async (spec) => {
    const input = material(spec.seconds, spec.sampleRate, spec.channels);
    const style = new Float32Array(styles);
    style[0] = 0.5;
    style[Math.min(1, styles - 1)] += 0.3;
    style[styles - 1] += 0.2;
    const options = { amount: 0.8, style, seed: 1234, batchSize: spec.batchSize };
    const before = await referenceEnrichPcm(clone(input), model, options);
    const after = await enrichPcm(clone(input), model, options);
    expect(firstDifference(after.channels, before.channels)).toBeNull();
  });
});

describe('limiter after the speed work', () => {
  it.each([1, 2, 3])('limits %i channels exactly as before', (count) => {
    const input = material(1.5, 44100, count);
    const before = clone(input);
    const after = clone(input);
    referenceLimit(before.channels, 220);
    limitPeaksInPlace(after.channels, 220);
    expect(firstDifference(after.channels, before.channels)).toBeNull();
  });
});

describe('WAV codec after the speed work', () => {
  it('writes the same bytes as wavefile did', async () => {
    for (const channels of [1, 2]) {
      // More than one 65,536-frame chunk, so the seams between chunks are covered.
      const pcm = material(3.5, 44100, channels);
      const file = path.join(await fixtureDir(), `written-${channels}.wav`);
      await writeWav16(pcm, file);
      expect((await readFile(file)).equals(Buffer.from(referenceEncodeWav16(pcm)))).toBe(true);
    }
  });

  it.each([
    ['8-bit', 'pcm_u8'],
    ['16-bit', 'pcm_s16le'],
    ['24-bit', 'pcm_s24le'],
    ['32-bit integer', 'pcm_s32le'],
    ['32-bit float', 'pcm_f32le'],
    ['64-bit float', 'pcm_f64le'],
  ])('reads %s WAV into the same samples as wavefile did', async (_name, codec) => {
    for (const channels of [1, 2] as const) {
      const file = await makeClip({ seconds: 0.5, sampleRate: 32000, channels, codec: ['-c:a', codec], extension: `${codec}.wav` });
      const bytes = await readFile(file);
      const before = referenceReadWav(bytes);
      for (const after of [readWav(bytes), await readWavFile(file)]) {
        expect(after).not.toBeNull();
        expect(firstDifference(after!.channels, before!.channels)).toBeNull();
      }
    }
  });

  it('reads a WAV with metadata before the samples and a cut-off end from disk as it reads it in memory', async () => {
    const file = await makeClip({ seconds: 3.2, sampleRate: 44100, channels: 2, codec: ['-c:a', 'pcm_s16le', '-metadata', 'title=bench'], extension: 'meta.wav' });
    const whole = await readFile(file);
    const cut = path.join(await fixtureDir(), 'cut.wav');
    await writeFile(cut, whole.subarray(0, whole.length - 12_345));
    for (const name of [file, cut]) {
      const bytes = await readFile(name);
      const fromDisk = await readWavFile(name);
      const inMemory = readWav(bytes);
      expect(fromDisk).not.toBeNull();
      expect(firstDifference(fromDisk!.channels, inMemory!.channels)).toBeNull();
    }
  });
});

describe('ffmpeg decode after the speed work', () => {
  it('fills the channels with exactly the floats ffmpeg wrote', async () => {
    const file = await makeClip({ seconds: 2.3, sampleRate: 44100, channels: 2, codec: ['-c:a', 'libmp3lame'], extension: 'mp3' });
    const raw = path.join(await fixtureDir(), 'decode-reference.f32');
    await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', file, '-map', '0:a:0', '-ac', '2', '-ar', '44100', '-f', 'f32le', raw]);
    const interleaved = await readFile(raw);
    const frames = interleaved.length / 8;
    const expected = [0, 1].map((c) => Float32Array.from({ length: frames }, (_, f) => interleaved.readFloatLE(f * 8 + c * 4)));
    const decoded = await decodeWithFfmpeg(ffmpeg, file, { sampleRate: 44100, channels: 2, maxSeconds: 60, expectedSeconds: 1, timeoutMs: 30_000 });
    expect(firstDifference(decoded.channels, expected)).toBeNull();
  });
});
