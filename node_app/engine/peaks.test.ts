import { describe, expect, it } from 'vitest';
import { framesPerPeak, PeakMeter, TARGET_PEAKS } from './peaks.js';

describe('peaks for waveform pictures', () => {
  it('keep the loudest sample of each bucket across channels and chunk boundaries', () => {
    const meter = new PeakMeter(4);
    meter.add([Float32Array.of(0.1, -0.5, 0.2), Float32Array.of(0, 0, 0.7)]);
    meter.add([Float32Array.of(0.3, 0, -0.25, 0.1, 0), Float32Array.of(0, 0, 0, 0, 0)]);
    expect(meter.peaks()).toEqual([0.7, 0.25]);
  });

  it('stay near the target count whatever the length, and fall back to 20 a second when the length is unknown', () => {
    expect(Math.ceil((600 * 48000) / framesPerPeak(600 * 48000, 48000))).toBeLessThanOrEqual(TARGET_PEAKS);
    expect(Math.ceil(100 / framesPerPeak(100, 8000))).toBe(100);
    expect(framesPerPeak(null, 44100)).toBe(2205);
  });
});
