#!/usr/bin/env bash
# Rebuild the training corpus and models/enricher.onnx + models/manifest.json from scratch (seeded).
# Needs Debian's python3-torch, python3-mido, python3-scipy, python3-soundfile, fluidsynth and the
# fluid-soundfont-gm / timgm6mb-soundfont / musescore-general-soundfont packages. CPU only.
#   STEPS        training steps (default 5000)
#   MAX_MINUTES  optional wall-clock cap; the cosine learning-rate schedule follows whichever ends first
#   THREADS      torch threads (default 2)
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
mkdir -p build
start=$(date +%s)
$PY build_dataset.py --pieces "${PIECES:-64}" --seconds 12 --seed 1 --out build/train.npz
$PY train.py --data build/train.npz --steps "${STEPS:-5000}" --minutes "${MAX_MINUTES:-1000}" --seed 1 \
  --threads "${THREADS:-2}" --ckpt build/enricher.pt --version "${VERSION:-1.0.0}"
echo "models:train finished in $(( $(date +%s) - start )) s"
