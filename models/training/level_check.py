"""Diagnostics: RMS of each generated layer vs. the layer it was trained on, and the eval classifier on the
true layers ("oracle") vs. on model outputs, over 8 training pieces.

usage (from models/training, after train.sh and eval.sh built build/): python3 level_check.py build/enricher.pt
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval as ev  # noqa: E402
from enricher_net import EnricherNet  # noqa: E402

torch.set_num_threads(2)
torch.manual_seed(0)
os.chdir(HERE)
corpus = np.load("build/clfcorpus.npz")
music = np.load("build/clfmusic.npz")["dry"]
classify, _, _ = ev.train_classifier(corpus, music)
tr = np.load("build/train.npz")
ids = [str(s) for s in tr["styles"]]
S = len(ids)
st = torch.load(sys.argv[1] if len(sys.argv) > 1 else "build/enricher.pt")
m = EnricherNet(S)
m.load_state_dict(st["model"])
m.eval()
conf_o = np.zeros((S, S), int)
conf_m = np.zeros((S, S), int)
ratios = {k: [] for k in ids}
for p in range(0, 64, 8):
    x = tr["dry"][p, :32768 * 16].astype(np.float32)
    for s in range(S):
        t = tr["wet"][p, s, :len(x)].astype(np.float32)
        with torch.no_grad():
            w = m(torch.from_numpy(x.reshape(-1, 32768)), torch.eye(S)[[s] * 16], torch.randn(16, 32768)).numpy().reshape(-1)
        ratios[ids[s]].append(w.std() / t.std())
        for y, conf in ((x + 0.5 * t, conf_o), (x + 0.5 * w, conf_m)):
            for q in classify([ev.clf_features(g) for g in ev.segments(y)]):
                conf[s, q] += 1
for k in ids:
    print(f"{k}: generated / training layer RMS {np.mean(ratios[k]):.2f} ({20 * np.log10(np.mean(ratios[k])):+.1f} dB)")
print("oracle accuracy", dict(zip(ids, np.round(np.diag(conf_o) / conf_o.sum(1), 2))))
print("model accuracy ", dict(zip(ids, np.round(np.diag(conf_m) / conf_m.sum(1), 2))))
print("model confusion (rows = true style):", ids)
print(conf_m)
