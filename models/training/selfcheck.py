"""Listening proxies for v3 while it trains (not the independent evaluation, which lives on `eval`).

Input: 20 s of real recorded game music from the packages cleared for training (never trained on: the
training music is MIDI). Each style is run the way the engine runs it: windows of WINDOW with OVERLAP,
one continuous noise stream and one continuous bed and event stream (grains.py; identical in overlaps), the overlaps
cross-faded, added at amount 0.5. Printed per style:
  level   the added layer (0.5 * wet) re the input, RMS dB (target >= -15 dB)
  loop    the bank (its bed clips together) whose mean log-mel spectrum (level-free, 60 Hz-11 kHz) is closest to
          the added layer's, per music clip, and the distance to the style's own bank (dB)
  held    distance to the nearest held-out real recording of the style's class (build/heldout/, never in
          the bank) and, in brackets, the same distance for the style's own loop (what a perfect pass-through
          of the loop would score)
  pump    correlation of the 50 ms loudness (dB) of the added layer with the input's (v1.5 pumped: high)
  swing   std (dB) of the added layer's 50 ms level, and of its 2 s level
and at the end, for every style, the closest other style: mean |difference| of the two added layers'
log-mel spectrograms (dB, 60 Hz-11 kHz, frame by frame) on the same music.
"""
import argparse
import glob
import os
import sys

import numpy as np
import torch
from scipy.io import wavfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from enricher_net import from_checkpoint, WINDOW, OVERLAP, mel_filterbank, SR  # noqa: E402
from styles import STYLES  # noqa: E402
import grains  # noqa: E402

MUSIC = ["ardentryst/usr/share/games/ardentryst/Music/battle.ogg",
         "ardentryst/usr/share/games/ardentryst/Music/Story.ogg",
         "ardentryst/usr/share/games/ardentryst/Music/castle.ogg",
         "plee-the-bear-data/usr/share/games/plee-the-bear/music/forest-1.ogg",
         "lugaru-data/usr/share/games/lugaru/Sounds/Music1Grass.ogg"]
MEL = mel_filterbank(SR, 2048, 64)
_C = np.fft.rfftfreq(2048, 1 / SR) @ MEL.T  # centre frequency of each band
BANDS = (_C > 60) & (_C < 11000)


def logmel(x):
    n = (len(x) - 2048) // 1024
    fr = np.stack([x[i * 1024:i * 1024 + 2048] for i in range(n)]) * np.hanning(2048)
    p = np.abs(np.fft.rfft(fr, axis=1)) ** 2
    return 10 * np.log10(p @ MEL.T + 1e-10)[:, BANDS]


def shape(x):
    m = logmel(np.asarray(x, np.float64)).mean(0)
    return m - m.mean()


def run_engine(model, audio, w, bank, style_ids, seed=0):
    rng = np.random.RandomState(seed)
    hop = WINDOW - OVERLAP
    nwin = max(1, int(np.ceil((len(audio) - OVERLAP) / hop)))
    total = (nwin - 1) * hop + WINDOW
    x = np.zeros(total, np.float32)
    x[:len(audio)] = audio
    noise = rng.standard_normal(total).astype(np.float32)
    tex = np.zeros(total, np.float32)
    ev = np.zeros(total, np.float32)
    for i, sid in enumerate(style_ids):
        if sid in bank and w[i] > 0:
            tex += np.sqrt(w[i]) * grains.bed_stream(bank[sid]["bed"], total, rng)
            ev += np.sqrt(w[i]) * grains.event_stream(bank[sid]["events"], total, grains.EVENT_EVERY[sid], rng)
    out = np.zeros(total, np.float32)
    fade = np.sin(np.linspace(0, np.pi / 2, OVERLAP)) ** 2
    with torch.no_grad():
        for k in range(nwin):
            a = k * hop
            y = model(torch.from_numpy(x[None, a:a + WINDOW]), torch.from_numpy(w[None].astype(np.float32)),
                       torch.from_numpy(noise[None, a:a + WINDOW]), torch.from_numpy(tex[None, a:a + WINDOW]),
                       torch.from_numpy(ev[None, a:a + WINDOW]))[0].numpy()
            if k > 0:
                y[:OVERLAP] *= fade
            if k < nwin - 1:
                y[-OVERLAP:] *= fade[::-1]
            out[a:a + WINDOW] += y
    return out[:len(audio)]


def decode(path):
    """A recording unpacked by banks.py under build/x, as mono float at the model's rate."""
    import subprocess
    b = subprocess.run(["ffmpeg", "-v", "error", "-i", os.path.join(HERE, "build", "x", path), "-ac", "1", "-ar", str(SR),
                        "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(b, np.float32)


def db_frames(x, n):
    m = len(x) // n
    return 10 * np.log10((x[:m * n].reshape(m, n) ** 2).mean(1) + 1e-12)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "build", "enricher.pt"))
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--styles", default="all")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    st = torch.load(a.ckpt)
    style_ids = list(st["styles"])
    model = from_checkpoint(st).eval()
    bank = grains.load_banks(os.path.join(os.path.dirname(HERE), "banks"))
    refs = {}
    for f in sorted(glob.glob(os.path.join(HERE, "build", "heldout", "*.wav"))):
        cls = os.path.basename(f).rsplit("_", 1)[0]
        sr, y = wavfile.read(f)
        refs.setdefault(cls, []).append(shape(y))
    loops = {sid: shape(np.concatenate(v["bed"])) for sid, v in bank.items()}
    loop_held = {sid: min(np.abs(loops[sid] - r).mean() for r in refs[sid]) for sid in loops if refs.get(sid)}
    music = [decode(p)[10 * SR:int((10 + a.seconds) * SR)].astype(np.float32) for p in MUSIC]
    print(f"step {st['step']}; music: {len(music)} real clips x {a.seconds:.0f} s; refs: "
          f"{ {k: len(v) for k, v in refs.items()} }")
    print(f"{'style':13s} {'level dB':>8s} {'nearest loop per clip, dist to own':>44s} {'held (loop)':>12s} "
          f"{'pump corr':>9s} {'swing 50ms/2s':>13s}")
    ids = [s for s in style_ids if s != "own"] if a.styles == "all" else a.styles.split(",")
    mels = {}
    for sid in ids:
        w = np.zeros(len(style_ids))
        w[style_ids.index(sid)] = 1
        lv, near, pump, sw1, sw2 = [], [], [], [], []
        for x in music:
            layer = 0.5 * run_engine(model, x, w, bank, style_ids)
            lv.append(10 * np.log10(np.mean(layer ** 2) / np.mean(x ** 2)))
            lm = shape(layer)
            mels.setdefault(sid, []).append(logmel(layer.astype(np.float64)))
            dl = {c: np.abs(lm - v).mean() for c, v in loops.items()}
            c = min(dl, key=dl.get)
            dh = min(np.abs(lm - r).mean() for r in refs[sid]) if refs.get(sid) else np.nan
            near.append((c, dl.get(sid, np.nan), dh))
            d_in, d_l = db_frames(x, 2205), db_frames(layer, 2205)
            pump.append(np.corrcoef(d_in, d_l)[0, 1])
            sw1.append(np.std(d_l))
            sw2.append(np.std(db_frames(layer, 88200)))
        names = ",".join(n[0] for n in near)
        own = np.mean([n[1] for n in near]) if sid in loops else np.nan
        held = np.mean([n[2] for n in near]) if sid in loop_held else np.nan
        lh = f"{held:5.1f} ({loop_held[sid]:4.1f})" if sid in loop_held else "-"
        print(f"{sid:13s} {np.mean(lv):8.1f} {names:>36s} {own:5.1f} {lh:>14s} {np.mean(pump):9.2f} "
              f"{np.mean(sw1):6.1f}/{np.mean(sw2):4.1f}", flush=True)
    print("closest other style (log-mel distance of the added layers, dB):",
          ", ".join(f"{k}->{v[0]} {v[1]:.1f}" for k, v in pairs(mels).items()))


def pairs(mels):
    out = {}
    for s1 in mels:
        d = {s2: np.mean([np.abs(np.maximum(a, -100) - np.maximum(b, -100)).mean() for a, b in zip(mels[s1], mels[s2])])
             for s2 in mels if s2 != s1}
        if d:
            out[s1] = min(d.items(), key=lambda kv: kv[1])
    return out


if __name__ == "__main__":
    main()
