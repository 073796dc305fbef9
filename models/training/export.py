"""Export models/enricher.onnx and models/manifest.json from a training checkpoint (no training).

The manifest keeps the training record it already has (steps, corpus, lineage), so exporting the same weights
into a new graph - as v2.2.0 did with v2.1.0's weights - only changes the version and the graph."""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from enricher_net import export_onnx, from_checkpoint, WINDOW, OVERLAP  # noqa: E402
from train import MODELS, write_manifest, bank_index  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--ckpt", default=os.path.join(HERE, "build", "enricher.pt"))
ap.add_argument("--version", required=True)
a = ap.parse_args()
st = torch.load(a.ckpt)
model = from_checkpoint(st)
export_onnx(model, os.path.join(MODELS, "enricher.onnx"))
with open(os.path.join(MODELS, "manifest.json")) as f:
    training = json.load(f).get("training", {})
if training.get("steps") != st["step"]:
    raise SystemExit(f"models/manifest.json records {training.get('steps')} training steps, the checkpoint "
                     f"{st['step']}: export the checkpoint that manifest describes, or train anew")
write_manifest(list(st["styles"]), WINDOW, OVERLAP, {"version": a.version, "training": training},
               bank_index(os.path.join(MODELS, "banks")))
print("exported step", st["step"], "as", a.version)
