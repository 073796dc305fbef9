"""Torch <-> ONNX parity of the exported model: the same windows through the PyTorch checkpoint and
through models/enricher.onnx with onnxruntime-node (run_onnx.cjs, the app's runtime). Prints the max
relative difference and onnxruntime-node's single-thread speed per window."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from enricher_net import EnricherNet, WINDOW  # noqa: E402
from train import load_bank, read_loop  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
ckpt = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "build", "enricher.pt")
count = int(sys.argv[2]) if len(sys.argv) > 2 else 6
st = torch.load(ckpt)
ids = list(st["styles"])
model = EnricherNet(len(ids))
model.load_state_dict(st["model"])
model.eval()
bank = load_bank(ids)
rng = np.random.RandomState(0)
S = len(ids)
audio = (rng.standard_normal((count, WINDOW)) * 0.1 * np.sin(np.linspace(0, 20, WINDOW)) ** 2).astype(np.float32)
style = np.zeros((count, S), np.float32)
tex = np.zeros((count, WINDOW), np.float32)
for i in range(count):
    a, b = i % S, (i * 5 + 3) % S
    style[i, a] += 0.6 if i % 2 else 1.0
    style[i, b] += 0.4 if i % 2 else 0.0
    for j, sid in enumerate(ids):
        if sid in bank and style[i, j] > 0:
            tex[i] += np.sqrt(style[i, j]) * read_loop(bank[sid], rng.randint(len(bank[sid])), WINDOW)
noise = rng.standard_normal((count, WINDOW)).astype(np.float32)
with torch.no_grad():
    tw = model(*(torch.from_numpy(v) for v in (audio, style, noise, tex))).numpy()
with tempfile.TemporaryDirectory() as d:
    for name, v in (("audio", audio), ("style", style), ("noise", noise), ("texture", tex)):
        v.tofile(os.path.join(d, f"{name}.f32"))
    json.dump({"count": count, "window": WINDOW, "styles": S}, open(os.path.join(d, "meta.json"), "w"))
    subprocess.run(["node", os.path.join(HERE, "run_onnx.cjs"), os.path.join(REPO, "models", "enricher.onnx"), d],
                   check=True, cwd=REPO)
    nw = np.fromfile(os.path.join(d, "wet.f32"), np.float32).reshape(count, WINDOW)
    timing = json.load(open(os.path.join(d, "timing.json")))
print(f"torch/ONNX max relative difference over {count} windows: {np.abs(tw - nw).max() / (np.abs(tw).max() + 1e-12):.2e}")
print(f"onnxruntime-node, 1 thread: best {timing['bestMsPerWindow']:.1f} ms per {WINDOW}-sample window "
      f"= {100 * timing['bestRealTimeFraction']:.3f} % of real time (median {100 * timing['medianRealTimeFraction']:.3f} %)")
