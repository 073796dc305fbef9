"""Build the sound banks models/banks/<style>/*.flac (beds) and <style>/events/*.flac from real recordings.

Fetches the Debian packages with `apt-get download` into build/debs (if not there yet), unpacks them with
`dpkg -x` into build/x/<package>, opens the archives some games keep their sounds in (0 A.D.'s public.zip,
UFO:AI's and OpenArena's .pk3 zips, OpenClonk's C4Group Sound.ocg) and decodes the chosen recordings with
ffmpeg (mono, 44.1 kHz).

- Beds: plain cuts of 6-20 s, DC removed, RMS -20 dBFS (TEX_RMS), rare peaks soft-limited at 0.98. No loop
  cross-fade: the engine draws random segments from inside the clips and cross-fades them itself.
- Events: one thunder clap or rumble, wave break, bird call, fire pop or wind gust each; cut at a fixed place
  or found as the loudest separated bursts of a band envelope, trimmed of silence, 5 ms fade-in, 30 ms
  fade-out, loudest 50 ms at RMS -10 dBFS, peaks soft-limited at 0.98.

Writes mono 16-bit 44.1 kHz FLAC (the `flac` tool, so every machine decodes the same samples),
models/banks/index.json (what each file was cut from, with its copyright and licence) and
models/banks/ATTRIBUTION.md; also held-out clips (build/heldout/*.wav, never in a bank) for selfcheck.py and
build/banks_report.json (the measures that judged each clip's character: onset rate, swell period, ...).
Deterministic: the same packages give the same files.
"""
import fnmatch
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile

import numpy as np
from scipy.io import wavfile
from scipy.signal import butter, sosfiltfilt

SR = 44100
BED_RMS = 0.1  # TEX_RMS in enricher_net.py: the level the network expects of a texture
EVENT_RMS = 10 ** (-10 / 20)  # the loudest 50 ms of an event
PEAK = 0.98

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
DEBS = os.path.join(BUILD, "debs")
X = os.path.join(BUILD, "x")
OUT = os.path.join(os.path.dirname(HERE), "banks")

PKGS = ["0ad-data", "openclonk-data", "ufoai-sound", "redeclipse-data", "ardentryst", "lugaru-data",
        "sonic-pi-samples", "triplea", "openarena-data", "plee-the-bear-data", "qabcs-data"]

# Archives inside packages: (package, archive path, members to unpack, folder under build/x)
ARCHIVES = [
    ("0ad-data", "usr/share/games/0ad/mods/public/public.zip", ["audio/ambient/*", "audio/attack/fire/*"], "0ad-audio"),
    ("ufoai-sound", "usr/share/games/ufoai/base/0snd.pk3", ["sound/ambience/*"], "ufoai-pk3"),
    ("openarena-data", "usr/share/games/openarena/baseoa/pak0.pk3", ["sound/world/*"], "openarena-pk3"),
    ("openclonk-data", "usr/share/games/openclonk/Sound.ocg", None, "openclonk-sound"),
]

# Short names for source folders under build/x
OAD = "0ad-audio/audio/ambient"
OADF = "0ad-audio/audio/attack/fire"
RE = "redeclipse-data/usr/share/games/redeclipse/data/sounds/ambience"
UF = "ufoai-pk3/sound/ambience"
OC = "openclonk-sound"
AR = "ardentryst/usr/share/games/ardentryst/Sounds"
SP = "sonic-pi-samples/usr/share/sonic-pi/samples"
OA = "openarena-pk3/sound/world"

# Bed clips per style: (name, source under build/x, start s, seconds). A name already defined by an earlier
# style is reused, not cut again (thunderstorm's bed is rain).
BEDS = {
    "rain": [
        ("0ad-rain11-a", f"{OAD}/weather/rain_11.ogg", 5.0, 14.0),
        ("0ad-rain11-b", f"{OAD}/weather/rain_11.ogg", 60.0, 14.0),
        ("0ad-rain12-a", f"{OAD}/weather/rain_12.ogg", 30.0, 14.0),
        ("openclonk-stereorain-a", f"{OC}/Liquids.ocg/StereoRain.ogg", 2.0, 14.0),
        ("openclonk-stereorain-b", f"{OC}/Liquids.ocg/StereoRain.ogg", 30.0, 14.0),
    ],
    "thunderstorm": [
        ("0ad-rain12-a", None, 0, 0), ("0ad-rain11-b", None, 0, 0),
        ("openclonk-stereorain-a", None, 0, 0), ("openclonk-stereorain-b", None, 0, 0),
    ],
    "sea-waves": [
        ("0ad-wave21", f"{OAD}/water/wave_21.ogg", 1.0, 14.0),
        ("0ad-wavecrash21", f"{OAD}/water/wavecrash_21.ogg", 1.0, 14.0),
        ("0ad-waverocky21-a", f"{OAD}/water/waverocky_21.ogg", 1.0, 14.0),
        ("0ad-waverocky21-b", f"{OAD}/water/waverocky_21.ogg", 20.0, 14.0),
        ("0ad-wavecrash21-b", f"{OAD}/water/wavecrash_21.ogg", 10.0, 14.0),
    ],
    "wind": [
        ("0ad-windstorm11", f"{OAD}/weather/windstorm_11.ogg", 10.0, 14.0),
        ("0ad-wind11", f"{OAD}/weather/wind_11.ogg", 40.0, 14.0),
        ("openclonk-windloop", f"{OC}/Environment.ocg/WindLoop.ogg", 5.0, 14.0),
        ("ufoai-arcticwind", f"{UF}/arcticwind.ogg", 5.0, 14.0),
        ("redeclipse-wastewind", f"{RE}/wastewind.ogg", 2.0, 14.0),
    ],
    "birds": [
        ("0ad-day-temperate11", f"{OAD}/dayscape/day_temperate_11.ogg", 1.0, 14.0),
        ("0ad-day-temperate13", f"{OAD}/dayscape/day_temperate_13.ogg", 1.0, 14.0),
        ("0ad-day-tropical10", f"{OAD}/dayscape/day_tropical_10.ogg", 1.0, 14.0),
        ("openclonk-birdsloop", f"{OC}/Environment.ocg/BirdsLoop.ogg", 1.0, 14.0),
        ("redeclipse-forest2", f"{RE}/forest2.ogg", 1.0, 14.0),
    ],
    "fire": [
        ("ufoai-fire", f"{UF}/fire.ogg", 0.5, 10.0),
        ("ufoai-smallfire", f"{UF}/smallfire.ogg", 0.0, 10.0),
        ("openclonk-fire", f"{OC}/Fire.ocg/Fire.ogg", 0.0, 9.0),
        ("ardentryst-fire-loop", f"{AR}/fire_loop.ogg", 0.0, 9.0),
    ],
    "vinyl": [
        ("sonicpi-vinyl-hiss", f"{SP}/vinyl_hiss.flac", 0.0, 7.9),
    ],
}

# Events per style: (name, source, start s, seconds) cuts one event; (name, source, "auto", n, band Hz,
# min s, max s) finds the n loudest separated bursts of the band envelope.
EVENTS = {
    "thunderstorm": [
        ("openclonk-thunder1", f"{OC}/Environment.ocg/Lightning.ocg/Thunder1.ogg", 0.0, 8.0),
        ("openclonk-thunder2", f"{OC}/Environment.ocg/Lightning.ocg/Thunder2.ogg", 0.0, 8.0),
        ("openclonk-thunder3", f"{OC}/Environment.ocg/Lightning.ocg/Thunder3.ogg", 0.0, 8.0),
        ("openclonk-thunder4", f"{OC}/Environment.ocg/Lightning.ocg/Thunder4.ogg", 0.0, 8.0),
        ("openclonk-thunder5", f"{OC}/Environment.ocg/Lightning.ocg/Thunder5.ogg", 0.0, 8.0),
        ("ufoai-thunder1", f"{UF}/thunder1.ogg", "auto", 2, (20, 2000), 1.0, 8.0),
        ("ufoai-thunder2", f"{UF}/thunder2.ogg", "auto", 3, (20, 2000), 1.0, 8.0),
        ("ufoai-thunder3", f"{UF}/thunder3.ogg", "auto", 2, (20, 2000), 1.0, 8.0),
        ("0ad-thunder10", f"{OAD}/weather/thunder_10.ogg", "auto", 1, (20, 2000), 1.0, 8.0),
        ("0ad-thunder11", f"{OAD}/weather/thunder_11.ogg", "auto", 1, (20, 2000), 1.0, 8.0),
    ],
    "sea-waves": [
        ("0ad-wavecrash21", f"{OAD}/water/wavecrash_21.ogg", "auto", 3, (100, 8000), 2.0, 7.0),
        ("0ad-wave21", f"{OAD}/water/wave_21.ogg", "auto", 2, (100, 8000), 2.0, 7.0),
    ],
    "wind": [
        ("0ad-windgust11", f"{OAD}/weather/windgust_11.ogg", 0.0, 6.0),
        ("0ad-windstorm11", f"{OAD}/weather/windstorm_11.ogg", "auto", 3, (100, 4000), 2.0, 6.0),
    ],
    "birds": [
        ("0ad-day-temperate-gen01", f"{OAD}/dayscape/day_temperate_gen_01.ogg", "auto", 6, (2000, 9000), 0.3, 4.0),
        ("0ad-day-temperate14", f"{OAD}/dayscape/day_temperate_14.ogg", "auto", 4, (2000, 9000), 0.3, 4.0),
        ("redeclipse-forest1", f"{RE}/forest1.ogg", "auto", 4, (2000, 9000), 0.3, 4.0),
    ],
    "fire": [
        ("ufoai-fire1", f"{UF}/fire1.ogg", "auto", 4, (1500, 12000), 0.03, 0.6),
        ("0ad-crackling-fire-c12", f"{OADF}/c_12.ogg", "auto", 4, (1500, 12000), 0.03, 0.6),
        ("lugaru-fire", "lugaru-data/usr/share/games/lugaru/Sounds/Fire.ogg", "auto", 4, (1500, 12000), 0.03, 0.6),
    ],
    "vinyl": [],
}

# Held-out real clips for the self-check: never in a bank, never trained on
HELDOUT = {
    "rain": ["plee-the-bear-data/usr/share/games/plee-the-bear/sound/weather/rain.ogg", f"{AR}/Rain_Loop.ogg"],
    "thunderstorm": [f"{OAD}/weather/rain_12.ogg"],
    "sea-waves": ["triplea/usr/share/games/triplea/assets/sounds/generic/placed_sea/placed_sea_01_splash_and_waves.mp3"],
    "wind": ["lugaru-data/usr/share/games/lugaru/Sounds/Wind.ogg", f"{RE}/wind.ogg"],
    "birds": [f"{RE}/forest3.ogg", "qabcs-data/usr/share/qabcs/abcs/all/noises/bird.ogg"],
    "fire": ["qabcs-data/usr/share/qabcs/abcs/all/noises/fire.ogg", f"{RE}/fire.ogg"],
    "vinyl": [],
}

# Copyright and licence per file, from /usr/share/doc/<package>/copyright (and the game's own credits file
# where the Debian file says "see"): (package, glob on the path inside the package) -> (copyright, licence)
_FS = "freesound.org"
COPYRIGHT = [
    ("0ad-data", "*", "2010 Wildfire Games", "CC-BY-SA-3.0"),
    ("openclonk-data", "*Lightning.ocg/Thunder1.ogg", f"xerana ({_FS}/people/xerana/sounds/199638), adapted by Maikel "
     "(The OpenClonk Team)", "CC-BY-3.0"),
    ("openclonk-data", "*Lightning.ocg/Thunder2.ogg", f"infopablo ({_FS}/people/infopablo/sounds/21887), adapted by "
     "Maikel (The OpenClonk Team)", "CC-BY-3.0"),
    ("openclonk-data", "*Lightning.ocg/Thunder3.ogg", f"nicStage ({_FS}/people/nicStage/sounds/64460), adapted by "
     "Maikel (The OpenClonk Team)", "CC-BY-3.0"),
    ("openclonk-data", "*Lightning.ocg/Thunder4.ogg", f"jrosin ({_FS}/people/jrosin/sounds/329978), adapted by Maikel "
     "(The OpenClonk Team)", "CC-BY-3.0"),
    ("openclonk-data", "*Lightning.ocg/Thunder5.ogg", f"shaka9 ({_FS}/people/shaka9/sounds/160514), adapted by Maikel "
     "(The OpenClonk Team)", "CC-BY-3.0"),
    ("openclonk-data", "*BirdsLoop.ogg", f"Dob \"dobroide\" Roide ({_FS}/people/dobroide/sounds/54746)", "CC-BY-3.0"),
    ("openclonk-data", "*WindLoop.ogg", f"ERH ({_FS}/people/ERH/sounds/34338)", "CC-BY-3.0"),
    ("openclonk-data", "*Fire.ocg/Fire.ogg", f"Dob \"dobroide\" Roide ({_FS}/people/dobroide/sounds/4211)", "CC-BY-3.0"),
    ("openclonk-data", "*", "2009-2016 The OpenClonk Team and contributors", "CC-BY-3.0"),
    ("ufoai-sound", "*ambience/cricket_loop.ogg", "The UFO:AI Team", "GPL-2+"),
    ("ufoai-sound", "*ambience/fire[12].ogg", "OpenArena, Al Riddoch, Simon Green (Psymong), Alex Parker, Paul Bee, "
     "Karen Rei Pease, Draikon, Nexuiz GPLed Data", "GPL-2"),
    ("ufoai-sound", "*", "\"Marine\" Baklund, Gren, Christian Hoffmann, Slippycurb", "CC-BY-SA-3.0"),
    ("redeclipse-data", "*/forest*.ogg", "2005, 2007 Dob \"dobroide\" Roide (freesound.org)", "CC-BY-3.0"),
    ("redeclipse-data", "*/wind.ogg", "Batuhan Bozkurt (freesound.org)", "CC-BY-SA-3.0"),
    ("redeclipse-data", "*", "Quinton \"quin\" Reeves, Alex \"blackshoe\" Anguix", "CC-BY-SA-3.0"),
    ("ardentryst", "*", "Kendra Pietruszewski, Amy Dunwoodie, Freesound.org users (Anton, acclivity, adcbicycle, aust, "
     "Connum, decembered, Erdie, ERH, FreqMan, Halion, HerbertBoland, inchadney, laurent, Leady, luffy, martian, "
     "redjim, reinsamba, Robinhood76, sagetyrtle, Stickinthemud, themfish, Wolfsinger, zebraphone), "
     "www.digifishmusic.com", "CC-BY-SA-3.0"),
    ("lugaru-data", "*", "2003, 2010 Wolfire Games", "CC-BY-SA-3.0"),
    ("sonic-pi-samples", "*vinyl_hiss.flac", f"2011 veezay ({_FS}/people/veezay/sounds/130393)", "CC0"),
    ("triplea", "*", "2002-2011 Sean Bridges, 2007-2011 \"ComradeKev\", 2009-2011 \"veqryn\"", "GPL-2+"),
    ("openarena-data", "*", "OpenArena team", "GPL-2+"),
]


# ---------- fetching and unpacking ----------

def deb_of(pkg):
    return next((f for f in sorted(os.listdir(DEBS)) if f.startswith(pkg + "_")), None)


def version_of(pkg):
    return subprocess.run(["dpkg-deb", "-f", os.path.join(DEBS, deb_of(pkg)), "Version"], capture_output=True,
                          text=True, check=True).stdout.strip()


def c4group_extract(path, out):
    """OpenClonk's C4Group: gzip with a changed magic; headers and entry tables are XOR-scrambled."""
    def unscramble(b):
        b = bytearray(x ^ 237 for x in b)
        for i in range(0, len(b) - 2, 3):
            b[i], b[i + 2] = b[i + 2], b[i]
        return bytes(b)

    def walk(data, pos, folder):
        head = unscramble(data[pos:pos + 204])
        if not head.startswith(b"RedWolf Design GrpFolder"):
            raise SystemExit(f"{path}: not a C4Group")
        n = struct.unpack("<i", head[36:40])[0]
        entries = []
        for i in range(n):
            e = data[pos + 204 + 316 * i: pos + 204 + 316 * (i + 1)]
            name = e[:260].split(b"\0")[0].decode("latin1")
            _, child, size, _, off = struct.unpack("<5i", e[260:280])
            entries.append((name, child, size, off))
        base = pos + 204 + 316 * n
        os.makedirs(folder, exist_ok=True)
        for name, child, size, off in entries:
            if child:
                walk(data, base + off, os.path.join(folder, name))
            else:
                with open(os.path.join(folder, name), "wb") as fh:
                    fh.write(data[base + off:base + off + size])

    with open(path, "rb") as fh:
        raw = fh.read()
    walk(gzip.decompress(b"\x1f\x8b" + raw[2:]), 0, out)


def fetch():
    os.makedirs(DEBS, exist_ok=True)
    need = [p for p in PKGS if deb_of(p) is None]
    if need:
        print("apt-get download", " ".join(need), flush=True)
        subprocess.run(["apt-get", "download", *need], cwd=DEBS, check=True)
    for p in PKGS:
        if not os.path.isdir(os.path.join(X, p)):
            subprocess.run(["dpkg", "-x", os.path.join(DEBS, deb_of(p)), os.path.join(X, p)], check=True)
    for pkg, arc, members, folder in ARCHIVES:
        dest = os.path.join(X, folder)
        if os.path.isdir(dest):
            continue
        src = os.path.join(X, pkg, arc)
        if members is None:
            c4group_extract(src, dest + ".tmp")
        else:
            with zipfile.ZipFile(src) as z:
                z.extractall(dest + ".tmp", [n for n in z.namelist() if any(fnmatch.fnmatch(n, m) for m in members)])
        os.rename(dest + ".tmp", dest)


def origin(src):
    """(package, path inside the package) of a source under build/x; archive members as 'archive!member'."""
    for pkg, arc, _, folder in ARCHIVES:
        if src.startswith(folder + "/"):
            return pkg, arc + "!" + src[len(folder) + 1:]
    pkg, path = src.split("/", 1)
    return pkg, path


def credit(pkg, path):
    for p, pattern, who, lic in COPYRIGHT:
        if p == pkg and fnmatch.fnmatch(path, pattern):
            return who, lic
    raise SystemExit(f"no copyright recorded for {pkg}: {path}")


# ---------- audio ----------

_decoded = {}


def decode(path):
    """A recording under build/x (or an absolute path) as mono float64 at 44.1 kHz (ffmpeg averages the channels)."""
    if path not in _decoded:
        b = subprocess.run(["ffmpeg", "-v", "error", "-i", os.path.join(X, path), "-ac", "1", "-ar", str(SR),
                            "-f", "f32le", "-"], capture_output=True, check=True).stdout
        _decoded[path] = np.frombuffer(b, np.float32).astype(np.float64)
    return _decoded[path]


def load_events(sid):
    """A style's event clips as the engine will read them (16-bit FLAC decoded to float)."""
    with open(os.path.join(OUT, "index.json")) as fh:
        rels = json.load(fh)["styles"][sid]["events"]
    return [decode(os.path.join(OUT, r)) for r in rels]


def soft_limit(y):
    if np.abs(y).max() > PEAK:  # limit the rare peaks (thunder cracks, bird calls) instead of lowering everything
        y = np.tanh(y / PEAK) * PEAK
    return y


def normalise_bed(y):
    y = y - y.mean()
    return soft_limit(y * BED_RMS / (np.sqrt(np.mean(y ** 2)) + 1e-12))


def frames_rms(y, n):
    m = len(y) // n
    return np.sqrt(np.mean(y[:m * n].reshape(m, n) ** 2, axis=1) + 1e-20)


def band(y, lo, hi):
    sos = butter(4, [lo, min(hi, SR / 2 - 100)], btype="band", fs=SR, output="sos")
    return sosfiltfilt(sos, y)


def finish_event(y):
    """Trim silence, fade 5 ms in / 30 ms out, loudest 50 ms at EVENT_RMS, soft-limit."""
    y = y - y.mean()
    e = frames_rms(y, int(0.01 * SR))
    keep = np.nonzero(e > e.max() * 10 ** (-40 / 20))[0]
    y = y[keep[0] * int(0.01 * SR):(keep[-1] + 1) * int(0.01 * SR)].copy()
    fi, fo = int(0.005 * SR), min(int(0.03 * SR), len(y) // 2)
    y[:fi] *= np.linspace(0, 1, fi)
    y[-fo:] *= np.linspace(1, 0, fo)
    w = int(0.05 * SR)
    loud = np.sqrt(np.convolve(y ** 2, np.ones(w) / w, "valid").max()) if len(y) > w else np.sqrt(np.mean(y ** 2))
    return soft_limit(y * EVENT_RMS / (loud + 1e-12))


def find_events(x, n, lo_hi, min_s, max_s):
    """The n loudest bursts of the band envelope (10 ms frames), at least max_s apart; each runs from where the
    envelope first rises within 20 dB of its peak to where it stays 20 dB below, clamped to [min_s, max_s]."""
    hop = int(0.01 * SR)
    e = frames_rms(band(x, *lo_hi), hop)
    e = np.convolve(e, np.ones(3) / 3, "same")
    floor = np.percentile(e, 30)
    taken = np.zeros(len(e), bool)
    out = []
    for i in np.argsort(-e):
        if len(out) == n or e[i] < 3 * floor:
            break
        sep = int(max_s / 0.01)
        if taken[max(0, i - sep):i + sep].any():
            continue
        thr = max(e[i] * 0.1, 1.5 * floor)
        a = i
        while a > 0 and e[a - 1] > thr and (i - a) * 0.01 < max_s * 0.3:
            a -= 1
        b = i
        while b < len(e) - 1 and e[b + 1] > thr and (b - a) * 0.01 < max_s:
            b += 1
        a = max(0, a - 2)
        b = min(len(e) - 1, max(b + 5, a + int(min_s / 0.01)))
        taken[a:b + 1] = True
        out.append((a * hop / SR, (b - a + 1) * hop / SR))
    return sorted(out)


def write_flac(path, y):
    pcm = np.clip(np.round(y * 32768), -32768, 32767).astype(np.int16)
    tmp = path + ".wav"
    wavfile.write(tmp, SR, pcm)
    subprocess.run(["flac", "-s", "-8", "-f", "--no-seektable", "-o", path, tmp], check=True)
    os.remove(tmp)
    return len(pcm)


# ---------- character measures (what the clips were chosen by) ----------

def character(y):
    """onsets/s: 10 ms frames where the 2-10 kHz band jumps by >= 6 dB over the previous 50 ms (drops, pops, calls);
    swell s: strongest period of the 0.1-s broadband envelope in 3-15 s (surf) and its autocorrelation;
    low/high: share of energy below 200 Hz / above 4 kHz; crest: peak/RMS in dB; env dB: 10-90 % spread of the
    0.1-s envelope (gusts, swells)."""
    h = frames_rms(band(y, 2000, 10000), int(0.01 * SR))
    db = 20 * np.log10(h + 1e-9)
    ref = np.array([db[max(0, i - 5):i].mean() if i else db[0] for i in range(len(db))])
    onsets = int(np.sum((db - ref >= 6) & (np.r_[True, np.diff(db) > 0])))
    env = frames_rms(y, int(0.1 * SR))
    e = env - env.mean()
    ac = np.correlate(e, e, "full")[len(e) - 1:] / (np.sum(e ** 2) + 1e-12)
    lo, hi = 30, min(150, len(ac) - 1)
    lag = lo + int(np.argmax(ac[lo:hi])) if hi > lo else 0
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / SR)
    edb = 20 * np.log10(env + 1e-9)
    return dict(onsets_per_s=round(onsets / (len(y) / SR), 2), swell_s=round(lag / 10, 1),
                swell_corr=round(float(ac[lag]) if lag else 0.0, 2),
                low=round(float(spec[f < 200].sum() / spec.sum()), 3),
                high=round(float(spec[f > 4000].sum() / spec.sum()), 3),
                crest_db=round(float(20 * np.log10(np.abs(y).max() / (np.sqrt(np.mean(y ** 2)) + 1e-12))), 1),
                env_db=round(float(np.percentile(edb, 90) - np.percentile(edb, 10)), 1))


# ---------- build ----------

def main():
    fetch()
    if os.path.isdir(OUT):
        for f in os.listdir(OUT):
            if f.endswith(".json") or f.endswith(".md"):
                os.remove(os.path.join(OUT, f))
            elif os.path.isdir(os.path.join(OUT, f)):
                shutil.rmtree(os.path.join(OUT, f))
    os.makedirs(OUT, exist_ok=True)
    versions = {p: version_of(p) for p in PKGS}
    files, styles, report = {}, {}, {}
    bed_of = {}

    def record(rel, src, start, seconds, y):
        pkg, path = origin(src)
        who, lic = credit(pkg, path)
        files[rel] = dict(package=pkg, version=versions[pkg], path=path, start=round(start, 3),
                          seconds=round(seconds, 3), copyright=who, licence=lic)
        report[rel] = character(y)

    for sid, clips in BEDS.items():
        rels = []
        for name, src, start, seconds in clips:
            if src is None:
                rels.append(bed_of[name])
                continue
            x = decode(src)
            a = int(start * SR)
            y = x[a:a + int(seconds * SR)]
            if len(y) < int(6 * SR):
                raise SystemExit(f"{src}: only {len(y) / SR:.1f} s from {start} s")
            y = normalise_bed(y)
            rel = f"{sid}/{name}.flac"
            os.makedirs(os.path.join(OUT, sid), exist_ok=True)
            n = write_flac(os.path.join(OUT, rel), y)
            record(rel, src, start, n / SR, y)
            bed_of[name] = rel
            rels.append(rel)
        styles[sid] = dict(bed=rels, events=[])

    for sid, specs in EVENTS.items():
        for spec in specs:
            name, src = spec[0], spec[1]
            x = decode(src)
            cuts = [(spec[2], spec[3])] if spec[2] != "auto" else find_events(x, *spec[3:])
            for k, (start, seconds) in enumerate(cuts):
                a = int(start * SR)
                y = finish_event(x[a:a + int(seconds * SR)])
                rel = f"{sid}/events/{name}" + (f"-{k + 1}" if spec[2] == "auto" else "") + ".flac"
                os.makedirs(os.path.join(OUT, sid, "events"), exist_ok=True)
                n = write_flac(os.path.join(OUT, rel), y)
                record(rel, src, start, n / SR, y)
                styles[sid]["events"].append(rel)

    index = dict(styles=styles, files=dict(sorted(files.items())))
    with open(os.path.join(OUT, "index.json"), "w") as fh:
        json.dump(index, fh, indent=1)
        fh.write("\n")
    write_attribution(index)

    hd = os.path.join(BUILD, "heldout")
    shutil.rmtree(hd, ignore_errors=True)
    os.makedirs(hd)
    for sid, paths in HELDOUT.items():
        for i, p in enumerate(paths):
            wavfile.write(os.path.join(hd, f"{sid}_{i}.wav"), SR, decode(p).astype(np.float32))
    with open(os.path.join(BUILD, "banks_report.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    summary(index)


def write_attribution(index):
    lines = ["# Sound attributions", "",
             "The Noise Enricher's nature and vinyl styles play real recordings, kept as banks of short clips",
             "(`models/banks/<style>/*.flac`: beds; `models/banks/<style>/events/*.flac`: single events; mono, 16-bit,",
             "44.1 kHz FLAC). Each is a cut from the file below, level-normalised (beds) or trimmed, faded and",
             "normalised (events) by `models/training/banks.py`, otherwise unchanged. They come from these Debian",
             "packages (bookworm), under these licences (copyright as stated in `/usr/share/doc/<package>/copyright`",
             "or the game's own credits file it points to). `index.json` holds the same, per file, for machines.", "",
             "| file | package (version) | path in the package | cut (s) | copyright | licence |",
             "|---|---|---|---|---|---|"]
    for rel, f in index["files"].items():
        lines.append(f"| `{rel}` | {f['package']} {f['version']} | `{f['path']}` | {f['start']:g} + {f['seconds']:g} "
                     f"| {f['copyright']} | {f['licence']} |")
    lines += ["", "The clips are adaptations of the works above and are shared under the same licences.",
              "Licence texts: https://creativecommons.org/licenses/by-sa/3.0/, https://creativecommons.org/licenses/by/3.0/,",
              "https://creativecommons.org/publicdomain/zero/1.0/, and for GPL-2 / GPL-2+ `/usr/share/common-licenses/GPL-2`",
              "on Debian systems (https://www.gnu.org/licenses/old-licenses/gpl-2.0.html).", ""]
    with open(os.path.join(OUT, "ATTRIBUTION.md"), "w") as fh:
        fh.write("\n".join(lines))


def summary(index):
    total = 0
    for sid, s in index["styles"].items():
        bed_s = sum(index["files"][r]["seconds"] for r in s["bed"])
        pk = sorted({index["files"][r]["package"] for r in s["bed"]})
        size = sum(os.path.getsize(os.path.join(OUT, r)) for r in s["bed"] + s["events"])
        print(f"{sid:13s} bed {len(s['bed'])} files {bed_s:6.1f} s from {', '.join(pk)}; "
              f"{len(s['events'])} events; {size / 1e6:.2f} MB", flush=True)
    for root, _, fs in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in fs)
    print(f"models/banks: {total / 1e6:.2f} MB", flush=True)


if __name__ == "__main__":
    main()
