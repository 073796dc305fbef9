"""Does a checkpoint's layer change near a window's edge? Training-side music only (build/train4.npz).

The engine uses each window's output up to MARGIN samples from an inner edge and cross-fades neighbours over
the next OVERLAP - 2*MARGIN samples. This runs windows over 24 of the training pieces joined end to end, and
compares each window's output in those cross-fade zones with the same samples taken from a window centred on
them (no edge in reach): the level difference in dB and the correlation of the two. A network that pumps at
window borders reads a level off 0 dB there; the evaluation's own border figure compares different moments of
the music and so also moves with the music's dynamics.

usage: /usr/bin/python3 models/training/edge_check.py CKPT[,CKPT...] STYLE [STYLE ...]
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from enricher_net import from_checkpoint, WINDOW, OVERLAP, MARGIN  # noqa: E402

FADE = OVERLAP - 2 * MARGIN
ZONES = {"left": MARGIN, "right": WINDOW - MARGIN - FADE}  # where each cross-fade zone starts in a window


def run(net, style, music, noise, starts):
    out = []
    for k in range(0, len(starts), 8):
        chunk = starts[k:k + 8]
        x = np.stack([music[a:a + WINDOW] for a in chunk])
        n = np.stack([noise[a:a + WINDOW] for a in chunk])
        s = np.repeat(style[None], len(chunk), 0)
        zero = np.zeros_like(x)
        with torch.no_grad():
            out.append(net(*(torch.from_numpy(v) for v in (x, s, n, zero, zero))).numpy())
    return np.concatenate(out)


def main():
    torch.set_num_threads(2)
    ckpts, styles = sys.argv[1].split(","), sys.argv[2:]
    dry = np.load(os.path.join(HERE, "build", "train4.npz"))["dry"]
    music = np.concatenate(list(dry[:24])).astype(np.float32)
    noise = np.random.RandomState(0).standard_normal(len(music)).astype(np.float32)
    starts = np.arange(WINDOW, len(music) - 2 * WINDOW, 90000)
    for path in ckpts:
        st = torch.load(path)
        net = from_checkpoint(st).eval()
        for sid in styles:
            style = np.zeros(len(st["styles"]), np.float32)
            style[list(st["styles"]).index(sid)] = 1.0
            edge = run(net, style, music, noise, starts)
            report = []
            for name, z in ZONES.items():
                shift = z + FADE // 2 - WINDOW // 2  # a window starting here has the zone's middle at its centre
                centred = run(net, style, music, noise, starts + shift)
                a = edge[:, z:z + FADE]
                b = centred[:, z - shift:z - shift + FADE]
                level = 10 * np.log10(np.mean(a ** 2) / np.mean(b ** 2))
                corr = np.mean(np.sum(a * b, 1) / np.sqrt(np.sum(a ** 2, 1) * np.sum(b ** 2, 1) + 1e-12))
                report.append(f"{name} {level:+.2f} dB (corr {corr:.3f})")
            print(f"{os.path.basename(path)} {sid}: " + ", ".join(report) + f"; {len(starts)} windows", flush=True)


if __name__ == "__main__":
    main()
