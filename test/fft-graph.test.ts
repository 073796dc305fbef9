import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../node_app/server/adapters/inference/manifest.js';
import { probeInputs, runProbe } from './helpers/model-probe.js';

// v2.2.0 computes its STFT and inverse STFT with a radix-2 FFT step and two half-size DFT GEMMs instead of
// dense 514 x 512 DFT matrices applied as convolutions. The weights are v2.1.0's, so the output must be what
// v2.1.0's graph gave on the same inputs (test/fixtures/make-dense-dft-reference.ts made the reference).
describe('the FFT graph', () => {
  it('gives the dense-DFT graph output of the same weights to within 1e-4', async () => {
    const manifest = await loadManifest(path.resolve('models'));
    const styleCount = manifest.styles.length;
    const wet = await runProbe(manifest.modelPath, probeInputs(styleCount), styleCount);
    const file = await readFile(path.resolve('test/fixtures/dense-dft-reference.f32'));
    const reference = new Float32Array(file.buffer, file.byteOffset, file.byteLength / 4);

    expect(wet.length).toBe(reference.length);
    let maxDiff = 0;
    let peak = 0;
    for (let i = 0; i < wet.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(wet[i] - reference[i]));
      peak = Math.max(peak, Math.abs(reference[i]));
    }
    expect(peak).toBeGreaterThan(0.1); // the probe makes a real layer, not near-silence that anything matches
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });
});
