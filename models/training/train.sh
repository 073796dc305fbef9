#!/usr/bin/env bash
# Rebuild models v2 from Debian packages: the texture bank models/textures/*.wav, the MIDI corpus, the
# training run and models/enricher.onnx + models/manifest.json (seeded). Needs Debian's python3-torch,
# python3-mido, python3-scipy, fluidsynth, ffmpeg, unzip, the fluid-soundfont-gm / timgm6mb-soundfont
# packages, and apt access for `apt-get download` of the sound packages (textures.py). CPU only.
#   MINUTES   wall-clock length of the training run (default 80; the cosine schedule follows it)
#   STEPS     optional step cap
#   THREADS   torch threads (default 2)
# Warm start: the v1.5.0 weights, read from the ONNX file in git history (commit 86eb85c) with
# onnx_weights.py; v2's new layers (texture head, phrase inputs) start fresh. Without git history the
# run starts from scratch (set INIT= to force that).
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
mkdir -p build
start=$(date +%s)
$PY textures.py
$PY build_dataset.py --pieces "${PIECES:-64}" --seconds 12 --seed 1 \
  --styles blues,hip-hop,metal,piano,vinyl,tape --out build/train2.npz
INIT=${INIT-build/enricher-v1.5.0.onnx}
if [ -n "$INIT" ] && [ ! -f "$INIT" ]; then
  git show 86eb85c:models/enricher.onnx > "$INIT" 2>/dev/null || { rm -f "$INIT"; INIT=""; }
fi
$PY train.py --data build/train2.npz --minutes "${MINUTES:-80}" --steps "${STEPS:-1000000000}" --seed 21 \
  --crop 131072 --batch 3 --lr 1e-3 --threads "${THREADS:-2}" ${INIT:+--init "$INIT"} \
  --ckpt build/enricher.pt --version "${VERSION:-2.0.0}"
$PY parity.py build/enricher.pt 6
echo "models:train finished in $(( $(date +%s) - start )) s"
