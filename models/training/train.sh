#!/usr/bin/env bash
# Rebuild the training corpus and models/enricher.onnx + models/manifest.json from scratch (seeded).
# Needs Debian's python3-torch, python3-mido, python3-scipy, python3-soundfile, fluidsynth and the
# fluid-soundfont-gm / timgm6mb-soundfont packages. CPU only.
# Stage 1 learns to follow the music (local spectral losses); stages 2 and 3 add the texture losses
# (block energy + sorted band levels) that bring back clicks, drops, crackle and chirps, stage 3 with
# more weight on them (levels of sparse sounds); stage 4 samples the weakest styles more often; stage 5
# adds the per-band level and frame-to-frame flux terms, which teach the click path to crackle and flicker;
# stage 6 settles at a lower rate with the styles that were still heard as others sampled more often;
# stage 7 does the same for vinyl and tape, whose layers were pulled apart in v1.5.0.
#   STEPS1..STEPS7   training steps of the stages (default 5000 / 4000 / 2500 / 1500 / 9000 / 5000 / 6000)
#   MAX_MINUTES      optional wall-clock cap per stage; the cosine schedule follows whichever ends first
#   THREADS          torch threads (default 2)
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
mkdir -p build
start=$(date +%s)
$PY build_dataset.py --pieces "${PIECES:-64}" --seconds 12 --seed 1 --out build/train.npz
$PY train.py --data build/train.npz --steps "${STEPS1:-5000}" --minutes "${MAX_MINUTES:-1000}" --seed 1 \
  --crop 32768 --lr 2e-3 --texture-loss 0 --threads "${THREADS:-2}" --ckpt build/stage1.pt --version 1.0.0
$PY train.py --data build/train.npz --steps "${STEPS2:-4000}" --minutes "${MAX_MINUTES:-1000}" --seed 2 \
  --crop 32768 --lr 1.5e-3 --texture-loss 1 --init build/stage1.pt --threads "${THREADS:-2}" \
  --ckpt build/stage2.pt --version 1.1.0
$PY train.py --data build/train.npz --steps "${STEPS3:-2500}" --minutes "${MAX_MINUTES:-1000}" --seed 3 \
  --crop 32768 --lr 1e-3 --texture-loss 1 --energy-weight 4 --sort-weight 2 --init build/stage2.pt \
  --threads "${THREADS:-2}" --ckpt build/stage3.pt --version 1.2.0
$PY train.py --data build/train.npz --steps "${STEPS4:-1500}" --minutes "${MAX_MINUTES:-1000}" --seed 4 \
  --crop 32768 --lr 5e-4 --texture-loss 1 --energy-weight 4 --sort-weight 2 --init build/stage3.pt \
  --oversample vinyl=3,birds=3,blues=2,metal=2 --threads "${THREADS:-2}" --ckpt build/stage4.pt --version 1.3.0
$PY train.py --data build/train.npz --steps "${STEPS5:-9000}" --minutes "${MAX_MINUTES:-1000}" --seed 6 \
  --crop 32768 --lr 1e-3 --texture-loss 1 --energy-weight 4 --sort-weight 2 --level-weight 1 --flux-weight 2 \
  --init build/stage4.pt --oversample vinyl=3,birds=3,blues=2,metal=2,piano=2 --threads "${THREADS:-2}" \
  --ckpt build/stage5.pt --version 1.4.0-rc
$PY train.py --data build/train.npz --steps "${STEPS6:-5000}" --minutes "${MAX_MINUTES:-1000}" --seed 7 \
  --crop 32768 --lr 5e-4 --texture-loss 1 --energy-weight 4 --sort-weight 2 --level-weight 1 --flux-weight 2 \
  --init build/stage5.pt --oversample blues=3,piano=3,wind=2,birds=3,thunderstorm=2,metal=2 \
  --threads "${THREADS:-2}" --ckpt build/stage6.pt --version 1.4.0
$PY train.py --data build/train.npz --steps "${STEPS7:-6000}" --minutes "${MAX_MINUTES:-1000}" --seed 8 \
  --crop 32768 --lr 5e-4 --texture-loss 1 --energy-weight 4 --sort-weight 2 --level-weight 1 --flux-weight 2 \
  --init build/stage6.pt --oversample vinyl=3,tape=3,birds=2,blues=2,wind=2 --threads "${THREADS:-2}" \
  --ckpt build/enricher.pt --version "${VERSION:-1.5.0}"
echo "models:train finished in $(( $(date +%s) - start )) s"
