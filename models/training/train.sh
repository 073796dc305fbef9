#!/usr/bin/env bash
# Rebuild models v2 from Debian packages: the sound banks models/banks/ (banks.py), the MIDI corpus, the
# training run and models/enricher.onnx + models/manifest.json (seeded). Needs Debian's python3-torch,
# python3-mido, python3-scipy, fluidsynth, ffmpeg, unzip, the fluid-soundfont-gm / timgm6mb-soundfont
# packages, and apt access for `apt-get download` of the sound packages (banks.py). CPU only.
#   MINUTES   wall-clock length of the training run (default 40; the cosine schedule follows it)
#   LR        peak learning rate (default 3e-4, a fine-tune)
#   STEPS     optional step cap
#   THREADS   torch threads (default 2)
# Lineage: v2.0.0 was an 80-minute run warm-started from the v1.5.0 weights (git 86eb85c); v2.1.0 (this
# script) fine-tunes the v2.0.0 weights, read from the ONNX file in git history (commit 2317a59) with
# onnx_weights.py, for 40 minutes at a lower learning rate on the v2.1 levels (targets.py, styles.py: louder
# wind, birds, hip-hop and blues; more of the real vinyl loop, less synthetic crackle). v2.2.0 is v2.1.0's
# weights exported into the FFT graph (export.py --version 2.2.0); this script exports into that graph too.
# Without git history the run starts from scratch (set INIT= to force that; then give it MINUTES=120 and LR=1e-3).
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
mkdir -p build
start=$(date +%s)
$PY banks.py
$PY build_dataset.py --pieces "${PIECES:-64}" --seconds 12 --seed 1 \
  --styles blues,hip-hop,metal,piano,vinyl,tape --out build/train2.npz
INIT=${INIT-build/enricher-v2.0.0.onnx}
if [ -n "$INIT" ] && [ ! -f "$INIT" ]; then
  git show 2317a59:models/enricher.onnx > "$INIT" 2>/dev/null || { rm -f "$INIT"; INIT=""; }
fi
$PY train.py --data build/train2.npz --minutes "${MINUTES:-40}" --steps "${STEPS:-1000000000}" --seed 22 \
  --crop 131072 --batch 3 --lr "${LR:-3e-4}" --threads "${THREADS:-2}" ${INIT:+--init "$INIT"} \
  --vinyl-crackle 0.35 --ckpt build/enricher.pt --version "${VERSION:-2.2.0}"
$PY parity.py build/enricher.pt 6
echo "models:train finished in $(( $(date +%s) - start )) s"
