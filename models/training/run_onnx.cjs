// Runs models/enricher.onnx with onnxruntime-node (the runtime the app uses) over windows that
// eval.py wrote as raw float32 files, and reports single-thread speed.
// usage: node run_onnx.cjs <model.onnx> <dir with audio.f32 style.f32 noise.f32 [texture.f32] meta.json>
const fs = require("fs");
const path = require("path");
const ort = require("onnxruntime-node");

function readF32(file) {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

async function main() {
  const [modelPath, dir] = process.argv.slice(2);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8"));
  const { count, window: w, styles: s, batch = 1 } = meta;
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "all",
  });
  const audio = readF32(path.join(dir, "audio.f32"));
  const style = readF32(path.join(dir, "style.f32"));
  const noise = readF32(path.join(dir, "noise.f32"));
  // v2 models take a texture input (the engine's texture-loop stream); zeros when the caller wrote none
  const wantsTexture = session.inputNames.includes("texture");
  const texFile = path.join(dir, "texture.f32");
  const texture = wantsTexture
    ? (fs.existsSync(texFile) ? readF32(texFile) : new Float32Array(count * w)) : null;
  // v3 models take the engine's event track too
  const wantsEvents = session.inputNames.includes("events");
  const eventsFile = path.join(dir, "events.f32");
  const events = wantsEvents
    ? (fs.existsSync(eventsFile) ? readF32(eventsFile) : new Float32Array(count * w)) : null;
  const out = new Float32Array(count * w);
  let runMs = 0;
  const perWindowMs = [];
  for (let i = 0; i < count; i += batch) {
    const b = Math.min(batch, count - i);
    const feeds = {
      audio: new ort.Tensor("float32", audio.slice(i * w, (i + b) * w), [b, w]),
      style: new ort.Tensor("float32", style.slice(i * s, (i + b) * s), [b, s]),
      noise: new ort.Tensor("float32", noise.slice(i * w, (i + b) * w), [b, w]),
    };
    if (texture) feeds.texture = new ort.Tensor("float32", texture.slice(i * w, (i + b) * w), [b, w]);
    if (events) feeds.events = new ort.Tensor("float32", events.slice(i * w, (i + b) * w), [b, w]);
    const t0 = process.hrtime.bigint();
    const res = await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    runMs += ms;
    perWindowMs.push(ms / b);
    out.set(res.wet.data, i * w);
  }
  fs.writeFileSync(path.join(dir, "wet.f32"), Buffer.from(out.buffer));
  const audioSeconds = (count * w) / 44100;
  // the machine is shared: the fastest window is the best estimate of one free core
  const sorted = perWindowMs.slice(1).sort((a, b) => a - b);
  const best = sorted.length ? sorted[0] : perWindowMs[0];
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : perWindowMs[0];
  fs.writeFileSync(path.join(dir, "timing.json"), JSON.stringify({
    windows: count, window: w, runMs, audioSeconds, realTimeFraction: runMs / 1000 / audioSeconds,
    bestMsPerWindow: best, medianMsPerWindow: median,
    bestRealTimeFraction: best / 1000 / (w / 44100), medianRealTimeFraction: median / 1000 / (w / 44100),
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
