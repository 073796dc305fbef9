"""Torch <-> ONNX parity of the exported model: the same windows through the PyTorch checkpoint and
through models/enricher.onnx with onnxruntime-node (run_onnx.cjs, the app's runtime). Prints the max
relative difference and onnxruntime-node's single-thread speed per window.

It also checks the FFT transforms against the dense DFT they replaced in v2.2.0: the same checkpoint with its
STFT/ISTFT swapped for the old dense matrices (DenseSTFT/DenseISTFT below, as v2.1.0 applied them) must give
the same output to within 1e-4."""
import copy
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from enricher_net import (from_checkpoint, WINDOW, EVEN, ODD, HOP, N_BINS, N_FFT,  # noqa: E402
                          _window)
import grains  # noqa: E402
from enricher_net import export_onnx  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
ckpt = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "build", "enricher.pt")
count = int(sys.argv[2]) if len(sys.argv) > 2 else 6


def _dense_kernel(row_scale, divisor):
    """The whole windowed DFT as conv weights [2*257, 1, 512]: real rows, then imaginary rows (v2.1.0)."""
    ang = 2 * np.pi * np.arange(N_BINS)[:, None] * np.arange(N_FFT)[None, :] / N_FFT
    kern = np.concatenate([row_scale * np.cos(ang), -row_scale * np.sin(ang)], 0) * _window() / divisor
    return torch.from_numpy(kern.astype(np.float32)[:, None, :])


def _halves():
    return [torch.from_numpy(np.concatenate([b, b + N_BINS])) for b in (EVEN, ODD)]


class DenseSTFT(nn.Module):
    def forward(self, x):
        spec = F.conv1d(F.pad(x.unsqueeze(1), (HOP, HOP)), _dense_kernel(np.ones((N_BINS, 1)), 1), stride=HOP)
        return tuple(torch.index_select(spec, 1, rows) for rows in _halves())


class DenseISTFT(nn.Module):
    def forward(self, even, odd):
        # the halves' rows back in natural order, by a gather rather than an in-place write, so the exported
        # dense graph keeps dynamic batch and length (the fixture runs it on the probe's 2 x 16384)
        order = torch.from_numpy(np.argsort(np.concatenate([r.numpy() for r in _halves()])))
        spec = torch.index_select(torch.cat([even, odd], 1), 1, order)
        c = np.full((N_BINS, 1), 2.0)
        c[0] = c[-1] = 1.0
        return F.conv_transpose1d(spec, _dense_kernel(c, N_FFT), stride=HOP)[:, 0, HOP:-HOP]


st = torch.load(ckpt)
ids = list(st["styles"])
model = from_checkpoint(st).eval()
banks = grains.load_banks(os.path.join(REPO, "models", "banks"))
rng = np.random.RandomState(0)
S = len(ids)
audio = (rng.standard_normal((count, WINDOW)) * 0.1 * np.sin(np.linspace(0, 20, WINDOW)) ** 2).astype(np.float32)
style = np.zeros((count, S), np.float32)
tex = np.zeros((count, WINDOW), np.float32)
ev = np.zeros((count, WINDOW), np.float32)
for i in range(count):
    a, b = i % S, (i * 5 + 3) % S
    style[i, a] += 0.6 if i % 2 else 1.0
    style[i, b] += 0.4 if i % 2 else 0.0
    for j, sid in enumerate(ids):
        if sid in banks and style[i, j] > 0:
            tex[i] += np.sqrt(style[i, j]) * grains.bed_stream(banks[sid]["bed"], WINDOW, rng)
            ev[i] += np.sqrt(style[i, j]) * grains.event_stream(banks[sid]["events"], WINDOW, grains.EVENT_EVERY[sid], rng)
noise = rng.standard_normal((count, WINDOW)).astype(np.float32)
dense = copy.deepcopy(model)
dense.stft, dense.istft = DenseSTFT(), DenseISTFT()
with torch.no_grad():
    tw = model(*(torch.from_numpy(v) for v in (audio, style, noise, tex, ev))).numpy()
    dw = dense(*(torch.from_numpy(v) for v in (audio, style, noise, tex, ev))).numpy()
fft_diff = np.abs(tw - dw).max()
print(f"FFT vs dense DFT transforms, same weights: max abs difference {fft_diff:.2e} (peak {np.abs(dw).max():.3f})")
if fft_diff > 1e-4:
    raise SystemExit("the FFT transforms do not match the dense DFT")
# the same weights in the dense graph, for test/fixtures/make-dense-dft-reference.ts
dense_path = os.path.join(HERE, "build", "enricher-dense.onnx")
export_onnx(dense, dense_path)
print(f"wrote {dense_path}: make the fixture with `npx tsx test/fixtures/make-dense-dft-reference.ts {dense_path}`")
with tempfile.TemporaryDirectory() as d:
    for name, v in (("audio", audio), ("style", style), ("noise", noise), ("texture", tex), ("events", ev)):
        v.tofile(os.path.join(d, f"{name}.f32"))
    json.dump({"count": count, "window": WINDOW, "styles": S}, open(os.path.join(d, "meta.json"), "w"))
    subprocess.run(["node", os.path.join(HERE, "run_onnx.cjs"), os.path.join(REPO, "models", "enricher.onnx"), d],
                   check=True, cwd=REPO)
    nw = np.fromfile(os.path.join(d, "wet.f32"), np.float32).reshape(count, WINDOW)
    timing = json.load(open(os.path.join(d, "timing.json")))
print(f"torch/ONNX max relative difference over {count} windows: {np.abs(tw - nw).max() / (np.abs(tw).max() + 1e-12):.2e}")
print(f"onnxruntime-node, 1 thread: best {timing['bestMsPerWindow']:.1f} ms per {WINDOW}-sample window "
      f"= {100 * timing['bestRealTimeFraction']:.3f} % of real time (median {100 * timing['medianRealTimeFraction']:.3f} %)")
