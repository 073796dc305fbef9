import path from 'node:path';
import { enrichPcm, type StyleGenerator } from '../node_app/engine/enrich.js';
import type { Pcm } from '../node_app/engine/pcm.js';
import { loadManifest } from '../node_app/server/adapters/manifest.js';
import { createOnnxGenerator } from '../node_app/server/adapters/onnx-generator.js';
import { enrichPcm as referenceEnrichPcm } from '../test/reference/enrich.js';
import { summarize } from './stats.js';

// The engine as it was (test/reference/) against the engine as it is, on the same song and the same model,
// alternating runs so both see the same machine load. Usage: tsx bench/engine-before-after.ts [seconds] [reps]
const seconds = Number(process.argv[2] ?? 60);
const reps = Number(process.argv[3] ?? 3);
const manifest = await loadManifest(path.resolve('models'));
const model = await createOnnxGenerator(manifest);
let modelSeconds = 0;
const timed: StyleGenerator = {
  ...model,
  async generate(batch) {
    const started = performance.now();
    const out = await model.generate(batch);
    modelSeconds += (performance.now() - started) / 1000;
    return out;
  },
};
const song = (): Pcm => ({
  sampleRate: 44100,
  channels: [0, 1].map((c) => Float32Array.from({ length: seconds * 44100 }, (_, i) => 0.6 * Math.sin(i * (0.03 + 0.01 * c)) * Math.sin(i * 0.0002))),
});
const style = new Float32Array(manifest.styles.length);
style[0] = 1;
const runs = { before: { total: [] as number[], other: [] as number[] }, after: { total: [] as number[], other: [] as number[] } };
for (let r = 0; r < reps; r++) {
  for (const [name, enrich] of [['before', referenceEnrichPcm], ['after', enrichPcm]] as const) {
    const pcm = song();
    modelSeconds = 0;
    const started = performance.now();
    await enrich(pcm, timed, { amount: 0.5, style, seed: 3 });
    const total = (performance.now() - started) / 1000;
    runs[name].total.push(total);
    runs[name].other.push(total - modelSeconds);
  }
}
for (const name of ['before', 'after'] as const) {
  const total = summarize(runs[name].total);
  const other = summarize(runs[name].other);
  console.log(`${name}: enrichPcm ${total.median.toFixed(3)} s, of which outside the model ${other.median.toFixed(3)} s (spread ${Math.round(other.spread * 100)}%) for ${seconds} s stereo`);
}
console.log(`outside-the-model time after/before: ${(summarize(runs.after.other).median / summarize(runs.before.other).median).toFixed(2)}`);
