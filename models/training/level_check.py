"""Diagnostic: level of each style's added layer (output - input) re the input, through an app checkout,
on one audio file, at several amounts. Independent of training (no model-side code or data).

usage: /usr/bin/python3 level_check.py INPUT.wav [--app /path/to/checkout] [--amounts 0.25,0.5,1]
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
import soundfile as sf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval as ev  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("input")
ap.add_argument("--app", default=ev.REPO)
ap.add_argument("--amounts", default="0.25,0.5,1")
a = ap.parse_args()
app = os.path.abspath(a.app)
styles = [s["id"] for s in json.load(open(os.path.join(app, "models", "manifest.json")))["styles"]]
amounts = [float(v) for v in a.amounts.split(",")]
with tempfile.TemporaryDirectory() as work:
    x, sr = sf.read(a.input, dtype="float64", always_2d=True)
    src = os.path.join(work, "in.wav")
    sf.write(src, x, sr, subtype="PCM_16")
    x = sf.read(src, dtype="float64", always_2d=True)[0].mean(1)
    jobs = [{"input": src, "style": s, "amount": m, "seed": ev.SEED, "output": os.path.join(work, f"{s}-{m}.wav")}
            for s in styles for m in amounts]
    ev.run_app(app, jobs, work)
    print("style".ljust(14) + "".join(f"amount {m}: RMS / LUFS-like dB".rjust(34) for m in amounts))
    for s in styles:
        row = s.ljust(14)
        for m in amounts:
            y = sf.read(os.path.join(work, f"{s}-{m}.wav"), dtype="float64", always_2d=True)[0].mean(1)
            d = y[:len(x)] - x[:len(y)]
            row += f"{ev.db(ev.C.rms(d) / ev.C.rms(x)):+.1f} / {ev.lufs(d) - ev.lufs(x):+.1f}".rjust(34)
        print(row)
