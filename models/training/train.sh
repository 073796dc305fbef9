#!/usr/bin/env bash
# Rebuild model v3 from Debian packages: the banks of real recordings models/banks/ (banks.py), the MIDI
# corpus, the training run and models/enricher.onnx + models/manifest.json (seeded). Needs Debian's
# python3-torch, python3-mido, python3-scipy, python3-soundfile, fluidsynth, ffmpeg, flac, unzip, the
# fluid-soundfont-gm / timgm6mb-soundfont packages, and apt access for `apt-get download` of the sound
# packages (banks.py). CPU only.
#   MINUTES   wall-clock length of the training run (default 60; the cosine schedule follows it)
#   LR        peak learning rate (default 5e-4: a fine-tune with new inputs)
#   STEPS     optional step cap
#   THREADS   torch threads (default 2)
# Lineage: v2.0.0 was warm-started from v1.5.0; v2.1.0 fine-tuned v2.0.0; v2.2.0 is v2.1.0's weights in the FFT
# graph. v3.0.0 (this script) starts from v2.2.0's weights, read from the ONNX file in git history (commit
# 9f4eef9) with onnx_weights.py (the folded spectral heads unfolded by train.py), adds the event input and its
# gain head and the `own` style, and is trained on the banks' never-looping beds and events (grains.py).
# Without git history the run starts from scratch (set INIT= to force that; then give it MINUTES=180 and LR=1e-3).
# The later models are further runs of train.py on this script's outputs, each command in models/README.md:
# the v3.1-v3.3 fine-tunes, then v4.0.0, the smaller LiteEnricherNet distilled from v3.3.0 (--arch lite --teacher).
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
mkdir -p build
start=$(date +%s)
$PY banks.py
$PY build_dataset.py --pieces "${PIECES:-64}" --seconds 12 --seed 1 \
  --styles blues,hip-hop,metal,piano,vinyl,tape --out build/train3.npz
INIT=${INIT-build/enricher-v2.2.0.onnx}
if [ -n "$INIT" ] && [ ! -f "$INIT" ]; then
  git show 9f4eef9:models/enricher.onnx > "$INIT" 2>/dev/null || { rm -f "$INIT"; INIT=""; }
fi
$PY train.py --data build/train3.npz --minutes "${MINUTES:-60}" --steps "${STEPS:-1000000000}" --seed 33 \
  --crop 131072 --batch 3 --lr "${LR:-5e-4}" --threads "${THREADS:-2}" ${INIT:+--init "$INIT"} \
  --vinyl-crackle 0.35 --ckpt build/enricher.pt --version "${VERSION:-3.0.0}"
$PY parity.py build/enricher.pt 6
echo "models:train finished in $(( $(date +%s) - start )) s"
