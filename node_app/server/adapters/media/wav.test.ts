import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import wavefile from 'wavefile';
import { describe, expect, it } from 'vitest';
import { writeWav16 } from '../../../../test/helpers/pcm.js';
import { readWav } from './wav.js';

describe('writeWav16', () => {
  it('writes a WAV that other readers open with the same rate, channels, length and samples', async () => {
    const left = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i / 7) * 0.9);
    const right = Float32Array.from({ length: 1001 }, (_, i) => (i % 2 ? -1 : 1) * 1.5);
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'wav-test-')), 'out.wav');
    await writeWav16({ sampleRate: 22050, channels: [left, right] }, file);
    const bytes = await readFile(file);

    const wav = new wavefile.WaveFile(bytes);
    const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
    expect(fmt).toMatchObject({ sampleRate: 22050, numChannels: 2, bitsPerSample: 16 });

    const back = readWav(bytes);
    expect(back?.channels[0].length).toBe(1001);
    expect(back?.channels[0][100]).toBeCloseTo(left[100], 4);
    // Out-of-range samples are clipped to full scale, never wrapped around.
    expect(back?.channels[1][0]).toBeCloseTo(32767 / 32768, 6);
    expect(back?.channels[1][1]).toBe(-1);
  });
});
