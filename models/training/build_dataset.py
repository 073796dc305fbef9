"""Build the paired training corpus: dry music and, for every style, the layer that follows it.

Writes build/<name>.npz with dry [P, L] and wet [P, S, L] (float16) plus style ids.
Seeded: the same --seed gives the same corpus.
"""
import argparse
import os
import sys
import time
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compose  # noqa: E402
import procedural  # noqa: E402
from styles import STYLES  # noqa: E402

TRAIN_KEYS = [0, 2, 4, 5, 7, 9]        # C D E F G A  (held-out uses the others)
TRAIN_TEMPO = (84, 128)


def make_piece(args):
    i, seed, seconds, style_ids, heldout = args
    rng = np.random.RandomState(seed * 1000 + i)
    if heldout:
        key = int(rng.choice([1, 3, 6, 8, 10, 11]))
        tempo = float(rng.choice([70, 76, 136, 144, 150]))
    else:
        key = int(rng.choice(TRAIN_KEYS))
        tempo = float(rng.uniform(*TRAIN_TEMPO))
    mode = "major" if rng.rand() < 0.6 else "minor"
    score = compose.make_score(rng, key, tempo, mode, seconds, heldout=heldout)
    if heldout:
        sfont = compose.SF_MUSESCORE
    else:
        sfont = compose.SF_FLUID if rng.rand() < 0.7 else compose.SF_TIM
    dry = compose.render(score, compose.dry_parts(score, rng), sfont)
    rms = np.sqrt(np.mean(dry ** 2)) + 1e-9
    target_db = rng.uniform(-30, -14)
    dry = dry * (10 ** (target_db / 20) / rms)
    peak = np.abs(dry).max()
    if peak > 0.95:
        dry *= 0.95 / peak
    rms = np.sqrt(np.mean(dry ** 2))
    wets = []
    for sid in style_ids:
        st = next(s for s in STYLES if s["id"] == sid)
        srng = np.random.RandomState(seed * 7919 + i * 31 + len(sid))
        if sid in compose.MIDI_STYLES:
            w = compose.render(score, compose.MIDI_STYLES[sid](score, srng), compose.SF_FLUID)
        else:
            w = procedural.PROCEDURAL[sid](dry, srng)
        w = np.nan_to_num(w.astype(np.float32))
        w *= st["ratio"] * rms / (np.sqrt(np.mean(w ** 2)) + 1e-9)
        wets.append(w)
    wets = np.stack(wets) if wets else np.zeros((0, len(dry)), np.float32)
    return dry.astype(np.float16), wets.astype(np.float16), dict(key=key, tempo=tempo, mode=mode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pieces", type=int, default=48)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--styles", default="all")
    ap.add_argument("--heldout", action="store_true")
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    ids = ([s["id"] for s in STYLES] if a.styles == "all" else
           [] if a.styles == "none" else a.styles.split(","))
    t0 = time.time()
    jobs = [(i, a.seed, a.seconds, ids, a.heldout) for i in range(a.pieces)]
    with Pool(a.jobs) as pool:
        res = pool.map(make_piece, jobs)
    dry = np.stack([r[0] for r in res])
    wet = np.stack([r[1] for r in res])
    meta = [r[2] for r in res]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    np.savez(a.out, dry=dry, wet=wet, styles=np.array(ids), meta=np.array([str(m) for m in meta]))
    print(f"built {a.out}: {dry.shape[0]} pieces x {a.seconds}s, styles {ids} in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
