"""Build the texture bank models/textures/<style>.wav from real recordings in Debian packages.

Fetches the packages with `apt-get download` into build/debs (if not there yet), unpacks them with
`dpkg -x` into build/x/<package>, decodes the chosen recordings with ffmpeg (mono, 44.1 kHz) and makes
seamless loops: the tail of each segment is cross-faded (equal power: the two ends are uncorrelated)
into its head, so bank[(i) mod len] has no click at the wrap. Each loop is normalised to the same RMS
(TEX_RMS in enricher_net.py; peaks limited) and written as 16-bit PCM, which the engine reads as
int16/32768. Also writes held-out clips (build/heldout/*.wav, never used for training) for the
self-check in selfcheck.py, and build/textures_sources.json (what each file was made from).

Only packages cleared for training/shipping are used (see models/README.md, "Sources"): 0ad-data,
ardentryst, sonic-pi-samples, lugaru-data, redeclipse-data, plee-the-bear-data, qabcs-data, triplea.
"""
import json
import os
import subprocess
import sys

import numpy as np
from scipy.io import wavfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from enricher_net import SR, TEX_RMS  # noqa: E402

BUILD = os.path.join(HERE, "build")
X = os.path.join(BUILD, "x")
OUT = os.path.join(os.path.dirname(HERE), "textures")
PKGS = ["0ad-data", "ardentryst", "sonic-pi-samples", "lugaru-data", "redeclipse-data",
        "plee-the-bear-data", "qabcs-data", "triplea"]
OAD = "0ad-audio/audio/ambient"  # unzipped from 0ad-data's public.zip
RE = "redeclipse-data/usr/share/games/redeclipse/data/sounds/ambience"
AR = "ardentryst/usr/share/games/ardentryst/Sounds"

# (path under build/x, start s, length s, gain) pieces, concatenated with short equal-power joins
BANK = {
    "rain": dict(parts=[(f"{OAD}/weather/rain_11.ogg", 12.0, 26.0, 1.0)]),
    "thunderstorm": dict(parts=[(f"{OAD}/weather/rain_12.ogg", 20.0, 30.0, 1.0)],
                         events=[(f"{OAD}/weather/thunder_10.ogg", 2.0, 1.6), (f"{OAD}/weather/thunder_11.ogg", 16.0, 1.6)]),
    "sea-waves": dict(parts=[(f"{OAD}/water/wave_21.ogg", 0.0, 28.5, 1.0)],
                      layers=[(f"{OAD}/water/waverocky_21.ogg", 5.0, 28.5, 0.6)]),
    "wind": dict(parts=[(f"{OAD}/weather/windstorm_11.ogg", 1.0, 26.0, 1.0)]),
    "birds": dict(parts=[(f"{OAD}/dayscape/day_temperate_12.ogg", 0.0, 22.0, 1.0),
                         (f"{RE}/forest1.ogg", 0.0, 9.0, 0.7)]),
    "fire": dict(parts=[(f"{AR}/fire_loop.ogg", 0.0, 9.2, 1.0),
                        ("lugaru-data/usr/share/games/lugaru/Sounds/Fire.ogg", 0.0, 4.0, 1.0),
                        (f"{AR}/fire_loop.ogg", 2.0, 7.0, 1.0)]),
    "vinyl": dict(parts=[("sonic-pi-samples/usr/share/sonic-pi/samples/vinyl_hiss.flac", 0.0, 7.9, 1.0),
                         ("sonic-pi-samples/usr/share/sonic-pi/samples/vinyl_hiss.flac", 1.0, 6.9, 1.0)],
                  reverse_second=True),
}
# held-out real clips for the self-check (never in the bank, never trained on)
HELDOUT = {
    "rain": ["plee-the-bear-data/usr/share/games/plee-the-bear/sound/weather/rain.ogg", f"{AR}/Rain_Loop.ogg"],
    "thunderstorm": [],
    "sea-waves": ["triplea/usr/share/games/triplea/assets/sounds/generic/placed_sea/placed_sea_01_splash_and_waves.mp3"],
    "wind": ["lugaru-data/usr/share/games/lugaru/Sounds/Wind.ogg", f"{RE}/wind.ogg"],
    "birds": [f"{RE}/forest3.ogg", "qabcs-data/usr/share/qabcs/abcs/all/noises/bird.ogg"],
    "fire": ["qabcs-data/usr/share/qabcs/abcs/all/noises/fire.ogg", f"{RE}/fire.ogg"],
    "vinyl": [],
}
FADE = 1.0  # seconds of cross-fade at the loop point and at joins


def fetch():
    debs = os.path.join(BUILD, "debs")
    os.makedirs(debs, exist_ok=True)
    for p in PKGS:
        if not os.path.isdir(os.path.join(X, p)):
            if not any(f.startswith(p + "_") for f in os.listdir(debs)):
                subprocess.run(["apt-get", "download", p], cwd=debs, check=True)
            deb = next(f for f in os.listdir(debs) if f.startswith(p + "_"))
            os.makedirs(os.path.join(X, p), exist_ok=True)
            subprocess.run(["dpkg", "-x", os.path.join(debs, deb), os.path.join(X, p)], check=True)
    if not os.path.isdir(os.path.join(X, OAD)):
        z = os.path.join(X, "0ad-data/usr/share/games/0ad/mods/public/public.zip")
        subprocess.run(["unzip", "-q", "-o", z, "audio/ambient/*", "-d", os.path.join(X, "0ad-audio")], check=True)


def decode(path):
    b = subprocess.run(["ffmpeg", "-v", "error", "-i", os.path.join(X, path), "-ac", "1", "-ar", str(SR),
                        "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(b, np.float32).astype(np.float64)


def seg(path, start, length):
    x = decode(path)
    a = int(start * SR)
    y = x[a:a + int(length * SR)]
    if len(y) < int(length * SR):  # short file: wrap
        y = np.resize(x, int(length * SR))
    return y


def join(a, b, f):
    """Equal-power cross-fade of the end of a into the start of b over f samples."""
    t = np.linspace(0, np.pi / 2, f)
    mid = a[-f:] * np.cos(t) + b[:f] * np.sin(t)
    return np.concatenate([a[:-f], mid, b[f:]])


def make_loop(y, f):
    """Seamless loop: the last f samples are cross-faded into the first f and dropped."""
    t = np.linspace(0, np.pi / 2, f)
    out = y[:-f].copy()
    out[:f] = y[-f:] * np.cos(t) + y[:f] * np.sin(t)
    return out


def normalise(y, rms=TEX_RMS, peak=0.98):
    y = y - y.mean()
    y = y * rms / (np.sqrt(np.mean(y ** 2)) + 1e-12)
    p = np.abs(y).max()
    if p > peak:  # soft-limit the rare peaks (thunder cracks, bird calls) instead of lowering the whole loop
        y = np.tanh(y / peak) * peak
    return y


def build_one(sid, spec):
    f = int(FADE * SR)
    parts = []
    for i, (p, s, l, g) in enumerate(spec["parts"]):
        y = seg(p, s, l) * g
        y = g * y / (np.sqrt(np.mean(y ** 2)) + 1e-12)
        if spec.get("reverse_second") and i == 1:
            y = y[::-1]
        parts.append(y)
    y = parts[0]
    for p in parts[1:]:
        y = join(y, p, f // 4)
    for p, s, l, g in spec.get("layers", []):
        z = seg(p, s, len(y) / SR)
        y = y + g * z / (np.sqrt(np.mean(z ** 2)) + 1e-12)
    for p, at, g in spec.get("events", []):
        z = decode(p)
        z = g * z / (np.sqrt(np.mean(z ** 2)) + 1e-12)  # the bed has unit RMS
        a = int(at * SR)
        n = min(len(z), len(y) - f - a)
        y[a:a + n] += z[:n]
    loop = make_loop(y, f)
    return normalise(loop)


def main():
    fetch()
    os.makedirs(OUT, exist_ok=True)
    info = {}
    for sid, spec in BANK.items():
        y = build_one(sid, spec)
        pcm = np.clip(np.round(y * 32768), -32768, 32767).astype(np.int16)
        path = os.path.join(OUT, f"{sid}.wav")
        wavfile.write(path, SR, pcm)
        info[sid] = dict(file=f"textures/{sid}.wav", seconds=round(len(pcm) / SR, 2), bytes=os.path.getsize(path),
                         sources=[p[0] for p in spec["parts"]] + [p[0] for p in spec.get("layers", [])]
                         + [p[0] for p in spec.get("events", [])])
        print(sid, info[sid]["seconds"], "s", info[sid]["bytes"], "bytes", flush=True)
    hd = os.path.join(BUILD, "heldout")
    os.makedirs(hd, exist_ok=True)
    for sid, paths in HELDOUT.items():
        for i, p in enumerate(paths):
            y = decode(p)
            wavfile.write(os.path.join(hd, f"{sid}_{i}.wav"), SR, y.astype(np.float32))
    with open(os.path.join(BUILD, "textures_sources.json"), "w") as fh:
        json.dump(info, fh, indent=2)


if __name__ == "__main__":
    main()
