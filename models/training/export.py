"""Export models/enricher.onnx and models/manifest.json from a training checkpoint (no training)."""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from enricher_net import EnricherNet, export_onnx, WINDOW, OVERLAP  # noqa: E402
from train import MODELS, write_manifest, load_bank  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--ckpt", default=os.path.join(HERE, "build", "enricher.pt"))
ap.add_argument("--version", default="2.0.0")
ap.add_argument("--seconds", type=float, default=None, help="training time to record in the manifest")
ap.add_argument("--loss", type=float, default=None, help="final training loss to record in the manifest")
a = ap.parse_args()
st = torch.load(a.ckpt)
model = EnricherNet(len(st["styles"]))
model.load_state_dict(st["model"])
export_onnx(model, os.path.join(MODELS, "enricher.onnx"))
training = {"steps": st["step"], "corpus": "64 pieces x 12 s (MIDI) + 7 recorded texture loops",
            "warmStart": "v1.5.0 (commit 86eb85c)"}
if a.seconds is not None:
    training["seconds"] = round(a.seconds)
if a.loss is not None:
    training["finalLoss"] = a.loss
write_manifest(list(st["styles"]), WINDOW, OVERLAP, {"version": a.version, "training": training},
               textures=load_bank(list(st["styles"])))
print("exported step", st["step"])
