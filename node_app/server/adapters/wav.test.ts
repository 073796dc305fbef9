import wavefile from 'wavefile';
import { describe, expect, it } from 'vitest';
import { encodeWav16, readWav } from './wav.js';

describe('encodeWav16', () => {
  it('writes a WAV that other readers open with the same rate, channels, length and samples', () => {
    const left = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i / 7) * 0.9);
    const right = Float32Array.from({ length: 1001 }, (_, i) => (i % 2 ? -1 : 1) * 1.5);
    const bytes = encodeWav16({ sampleRate: 22050, channels: [left, right] });

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
