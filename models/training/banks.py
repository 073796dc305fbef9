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
from scipy.ndimage import median_filter
from scipy.signal import butter, sosfiltfilt, stft

SR = 44100
BED_RMS = 0.1  # TEX_RMS in enricher_net.py: the level the network expects of a texture
EVENT_RMS = 10 ** (-10 / 20)  # the loudest 50 ms of an event
PEAK = 0.98
MAX_REPEAT = 0.3  # largest fine-grain correlation allowed within a bed clip or between two clips of a style

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
DEBS = os.path.join(BUILD, "debs")
X = os.path.join(BUILD, "x")
OUT = os.path.join(os.path.dirname(HERE), "banks")

PKGS = ["0ad-data", "openclonk-data", "ufoai-sound", "redeclipse-data", "ardentryst", "lugaru-data",
        "sonic-pi-samples", "openttd-opensfx", "qabcs-data", "triplea", "plee-the-bear-data"]

# Archives inside packages: (package, archive path, kind, members to unpack, folder under build/x)
ARCHIVES = [
    ("0ad-data", "usr/share/games/0ad/mods/public/public.zip", "zip", ["audio/ambient/*", "audio/attack/fire/*"],
     "0ad-audio"),
    ("ufoai-sound", "usr/share/games/ufoai/base/0snd.pk3", "zip", ["sound/ambience/*"], "ufoai-pk3"),
    ("openclonk-data", "usr/share/games/openclonk/Sound.ocg", "c4group", None, "openclonk-sound"),
    ("openttd-opensfx", "usr/share/games/openttd/baseset/opensfx/opensfx.cat", "cat", None, "opensfx"),
]

# Short names for source folders under build/x
OAD = "0ad-audio/audio/ambient"
OADF = "0ad-audio/audio/attack/fire"
RE = "redeclipse-data/usr/share/games/redeclipse/data/sounds/ambience"
RM = f"{RE}/morph"  # Q009's ambient pack inside Red Eclipse, CC BY 3.0
UF = "ufoai-pk3/sound/ambience"
OC = "openclonk-sound"
AR = "ardentryst/usr/share/games/ardentryst/Sounds"
SP = "sonic-pi-samples/usr/share/sonic-pi/samples"
QN = "qabcs-data/usr/share/qabcs/abcs/all/noises"
LU = "lugaru-data/usr/share/games/lugaru/Sounds"
TA = "triplea/usr/share/games/triplea/assets/sounds/generic/placed_sea"

# Bed clips per style: (name, source under build/x, start s, seconds). A name already cut for an earlier style
# is reused, not cut again (thunderstorm's bed is rain). Chosen by the measures in character() and repeats():
# - 0 A.D.'s rain files repeat their own fine grain every 7.3 s (r 0.24) and its dayscapes every 11.8 s (r 0.8;
#   10.4 s for the tropical ones), so no clip from them is longer than one period, and only one is taken of
#   each: rain_11 and rain_12 are one recording (r 0.98), the temperate dayscapes share material (r 0.6-0.8).
#   0 A.D.'s rain is also the most hiss-like (2-10 kHz kurtosis 4 against 5-7 for OpenClonk's and
#   Ardentryst's rain, whose drops are audible).
# - OpenClonk's Fire.ogg and Ardentryst's fire_loop.ogg are one recording (dobroide, freesound 4211; r 0.9):
#   only OpenClonk's is used.
# - No GPL-licensed recording (UFO:AI's fire1/fire2, qabcs-data's bird calls, TripleA's splash): a style's layer
#   mixes its clips, and GPL does not mix with CC BY-SA 3.0.
BEDS = {
    "rain": [
        ("openclonk-stereorain-a", f"{OC}/Liquids.ocg/StereoRain.ogg", 1.0, 14.5),
        ("openclonk-stereorain-b", f"{OC}/Liquids.ocg/StereoRain.ogg", 15.5, 14.5),
        ("openclonk-stereorain-c", f"{OC}/Liquids.ocg/StereoRain.ogg", 30.0, 14.5),
        ("openclonk-stereorain-d", f"{OC}/Liquids.ocg/StereoRain.ogg", 44.5, 14.5),
        ("ardentryst-rain-loop", f"{AR}/Rain_Loop.ogg", 0.5, 19.0),
        ("0ad-rain11", f"{OAD}/weather/rain_11.ogg", 20.0, 7.0),
    ],
    # a storm's own rain (Q009's storm rain and rain, heavier and darker than OpenClonk's patter) beside part of
    # the rain bank: thunderstorm is more than rain with claps on top
    "thunderstorm": [
        ("redeclipse-stormrain", f"{RM}/stormrain.ogg", 0.2, 6.8),
        ("redeclipse-morph-rain", f"{RM}/rain.ogg", 0.2, 9.0),
        ("openclonk-stereorain-c", None, 0, 0), ("openclonk-stereorain-d", None, 0, 0),
        ("ardentryst-rain-loop", None, 0, 0),
    ],
    "sea-waves": [
        ("0ad-wave21-a", f"{OAD}/water/wave_21.ogg", 0.5, 14.0),
        ("0ad-wave21-b", f"{OAD}/water/wave_21.ogg", 14.5, 14.0),
        ("0ad-wavecrash21", f"{OAD}/water/wavecrash_21.ogg", 0.5, 18.0),
        ("0ad-waverocky21-a", f"{OAD}/water/waverocky_21.ogg", 0.5, 19.0),
        ("0ad-waverocky21-b", f"{OAD}/water/waverocky_21.ogg", 19.5, 19.0),
    ],
    "wind": [
        ("0ad-windstorm11-a", f"{OAD}/weather/windstorm_11.ogg", 14.0, 16.0),
        ("0ad-windstorm11-b", f"{OAD}/weather/windstorm_11.ogg", 70.0, 16.0),
        ("openclonk-windloop", f"{OC}/Environment.ocg/WindLoop.ogg", 0.5, 16.0),
        ("ufoai-arcticwind", f"{UF}/arcticwind.ogg", 0.5, 16.0),
        ("lugaru-desertambient", f"{LU}/DesertAmbient.ogg", 14.0, 16.0),
    ],
    "birds": [
        ("openclonk-birdsloop", f"{OC}/Environment.ocg/BirdsLoop.ogg", 0.5, 18.5),
        ("redeclipse-forest1", f"{RE}/forest1.ogg", 0.5, 18.0),
        ("redeclipse-forest2", f"{RE}/forest2.ogg", 0.5, 18.0),
        ("0ad-day-temperate13", f"{OAD}/dayscape/day_temperate_13.ogg", 1.0, 11.0),
        ("0ad-day-tropical10", f"{OAD}/dayscape/day_tropical_10.ogg", 1.0, 10.0),
    ],
    "fire": [
        ("ufoai-fire", f"{UF}/fire.ogg", 0.3, 10.5),
        ("ufoai-smallfire", f"{UF}/smallfire.ogg", 0.1, 10.0),
        ("openclonk-furnace", f"{OC}/Structures.ocg/Furnace.ocg/Loop.ogg", 0.0, 12.0),
        ("openclonk-fire", f"{OC}/Fire.ocg/Fire.ogg", 0.1, 9.2),
    ],
    "vinyl": [
        ("sonicpi-vinyl-hiss", f"{SP}/vinyl_hiss.flac", 0.0, 7.9),
    ],
}

# Events per style: (name, source, start s, seconds) cuts one event; (name, source, "auto", n, band Hz, min s,
# max s) takes the n loudest separated bursts of the band envelope (find_events).
_LT = f"{OC}/Environment.ocg/Lightning.ocg"
EVENTS = {
    "thunderstorm": [  # claps (OpenClonk, UFO:AI thunder3, 0 A.D. thunder_10) and long rumbles (UFO:AI 1 and 2)
        ("openclonk-thunder1", f"{_LT}/Thunder1.ogg", 0.0, 8.0),
        ("openclonk-thunder2", f"{_LT}/Thunder2.ogg", 0.0, 8.0),
        ("openclonk-thunder3", f"{_LT}/Thunder3.ogg", 0.0, 8.0),
        ("openclonk-thunder4", f"{_LT}/Thunder4.ogg", 0.0, 8.0),
        ("openclonk-thunder5", f"{_LT}/Thunder5.ogg", 0.0, 8.0),
        ("ufoai-thunder1-rumble", f"{UF}/thunder1.ogg", 0.0, 8.0),
        ("ufoai-thunder2-rumble", f"{UF}/thunder2.ogg", 0.0, 8.0),
        ("ufoai-thunder3-clap", f"{UF}/thunder3.ogg", 0.0, 5.0),
        ("ufoai-thunder3-roll", f"{UF}/thunder3.ogg", 5.5, 7.0),
        ("0ad-thunder10", f"{OAD}/weather/thunder_10.ogg", 1.35, 7.0),
        ("0ad-thunder11", f"{OAD}/weather/thunder_11.ogg", 0.0, 8.0),
        ("redeclipse-stormbolts", f"{RM}/stormbolts.ogg", "auto", 5, (30, 8000), 1.5, 7.0),
    ],
    "sea-waves": [
        ("0ad-wavecrash21", f"{OAD}/water/wavecrash_21.ogg", "auto", 3, (60, 8000), 2.0, 7.0),
        ("0ad-waverocky21", f"{OAD}/water/waverocky_21.ogg", "auto", 3, (60, 8000), 2.0, 7.0),
    ],
    "wind": [
        ("0ad-windgust11", f"{OAD}/weather/windgust_11.ogg", 0.0, 6.0),
        ("opensfx-heavy-wind", "opensfx/57.wav", 0.0, 3.0),
        ("0ad-wind11", f"{OAD}/weather/wind_11.ogg", "auto", 4, (60, 6000), 2.0, 6.0),
    ],
    "birds": [
        ("opensfx-tropical-bird1", "opensfx/66.wav", 0.0, 2.2),
        ("opensfx-tropical-bird2", "opensfx/72.wav", 0.0, 3.0),
        ("sonicpi-crow", f"{SP}/misc_crow.flac", 0.0, 1.0),
        ("redeclipse-forest3", f"{RE}/forest3.ogg", "auto", 5, (1500, 10000), 0.3, 4.0),
    ],
    "fire": [
        ("0ad-crackling-fire-c11", f"{OADF}/c_11.ogg", "auto", 4, (800, 14000), 0.03, 0.6),
        ("0ad-crackling-fire-c14", f"{OADF}/c_14.ogg", "auto", 4, (800, 14000), 0.03, 0.6),
        ("ufoai-fire03", f"{UF}/fire03.ogg", "auto", 4, (800, 14000), 0.03, 0.6),
        ("lugaru-fire", f"{LU}/Fire.ogg", "auto", 3, (800, 14000), 0.03, 0.6),
    ],
    "vinyl": [
        ("sonicpi-vinyl-hiss", f"{SP}/vinyl_hiss.flac", "auto", 4, (1000, 16000), 0.02, 0.15),
    ],
}

# Held-out real clips for the self-check: never in a bank, never trained on
HELDOUT = {
    "rain": ["plee-the-bear-data/usr/share/games/plee-the-bear/sound/weather/rain.ogg"],
    "thunderstorm": [],
    "sea-waves": [f"{TA}/placed_sea_01_splash_and_waves.mp3"],
    "wind": [f"{LU}/Wind.ogg", f"{RE}/wind.ogg"],
    "birds": [f"{QN}/bird.ogg"],
    "fire": [f"{QN}/fire.ogg", f"{RE}/fire.ogg"],
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
    ("openclonk-data", "*Fire.ocg/Fire.ogg", f"Dob \"dobroide\" Roide ({_FS}/people/dobroide/sounds/4211)",
     "CC-BY-3.0"),
    ("openclonk-data", "*Furnace.ocg/Loop.ogg", f"tc630 ({_FS}/people/tc630/sounds/47835)", "CC0"),
    ("openclonk-data", "*", "2009-2016 The OpenClonk Team and contributors", "CC-BY-3.0"),
    ("ufoai-sound", "*", "\"Marine\" Baklund, Gren, Christian Hoffmann, Slippycurb", "CC-BY-SA-3.0"),
    ("redeclipse-data", "*/morph/*", 'Slawek "Q009" Blauciak, from Q009\'s ambient sound pack (in Red Eclipse)', "CC-BY-3.0"),
    ("redeclipse-data", "*/forest*.ogg", "2005, 2007 Dob \"dobroide\" Roide (freesound.org)", "CC-BY-3.0"),
    ("redeclipse-data", "*/wind.ogg", "Batuhan Bozkurt (freesound.org)", "CC-BY-SA-3.0"),
    ("redeclipse-data", "*", "Quinton \"quin\" Reeves, Alex \"blackshoe\" Anguix", "CC-BY-SA-3.0"),
    ("ardentryst", "*", "Kendra Pietruszewski, Amy Dunwoodie, Freesound.org users (Anton, acclivity, adcbicycle, aust, "
     "Connum, decembered, Erdie, ERH, FreqMan, Halion, HerbertBoland, inchadney, laurent, Leady, luffy, martian, "
     "redjim, reinsamba, Robinhood76, sagetyrtle, Stickinthemud, themfish, Wolfsinger, zebraphone), "
     "www.digifishmusic.com", "CC-BY-SA-3.0"),
    ("lugaru-data", "*", "2003, 2010 Wolfire Games", "CC-BY-SA-3.0"),
    ("sonic-pi-samples", "*vinyl_hiss.flac", f"2011 veezay ({_FS}/people/veezay/sounds/130393)", "CC0"),
    ("sonic-pi-samples", "*misc_crow.flac", f"2008 davidworksonline ({_FS}/people/davidworksonline/sounds/54973)",
     "CC0"),
    ("openttd-opensfx", "*!66.wav", "\"Bird Noise - 1.wav\" by SpaceJoe, edited by Wuzzy (OpenSFX)", "CC0"),
    ("openttd-opensfx", "*!72.wav", "\"Bird Noise - 12.wav\" by SpaceJoe, edited by Wuzzy (OpenSFX)", "CC0"),
    ("openttd-opensfx", "*!57.wav", "\"wind1.wav\" by Anton, edited by Janis Lukss (OpenSFX)", "CC-BY-3.0"),
]


LICENCE_TEXT = {
    "CC-BY-SA-3.0": "https://creativecommons.org/licenses/by-sa/3.0/",
    "CC-BY-3.0": "https://creativecommons.org/licenses/by/3.0/",
    "CC0": "https://creativecommons.org/publicdomain/zero/1.0/",
}


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


def cat_extract(path, out):
    """OpenTTD's sound catalogue: a table of (offset, size) pairs; each entry is a name (length byte, text:
    the sound's description and credit) and a WAV file. Written as <index>.wav."""
    with open(path, "rb") as fh:
        d = fh.read()
    n = (struct.unpack("<I", d[:4])[0] & 0x7FFFFFFF) // 8
    os.makedirs(out)
    for i in range(n):
        off, size = struct.unpack("<II", d[8 * i:8 * i + 8])
        off &= 0x7FFFFFFF
        with open(os.path.join(out, f"{i:02d}.wav"), "wb") as fh:
            fh.write(d[off + 1 + d[off]:off + size])


def fetch():
    os.makedirs(DEBS, exist_ok=True)
    need = [p for p in PKGS if deb_of(p) is None]
    if need:
        print("apt-get download", " ".join(need), flush=True)
        subprocess.run(["apt-get", "download", *need], cwd=DEBS, check=True)
    for p in PKGS:
        if not os.path.isdir(os.path.join(X, p)):
            os.makedirs(X, exist_ok=True)
            subprocess.run(["dpkg", "-x", os.path.join(DEBS, deb_of(p)), os.path.join(X, p) + ".tmp"], check=True)
            os.rename(os.path.join(X, p) + ".tmp", os.path.join(X, p))
    for pkg, arc, kind, members, folder in ARCHIVES:
        dest = os.path.join(X, folder)
        if os.path.isdir(dest):
            continue
        src = os.path.join(X, pkg, arc)
        shutil.rmtree(dest + ".tmp", ignore_errors=True)
        if kind == "c4group":
            c4group_extract(src, dest + ".tmp")
        elif kind == "cat":
            cat_extract(src, dest + ".tmp")
        else:
            with zipfile.ZipFile(src) as z:
                z.extractall(dest + ".tmp", [n for n in z.namelist() if any(fnmatch.fnmatch(n, m) for m in members)])
        os.rename(dest + ".tmp", dest)


def origin(src):
    """(package, path inside the package) of a source under build/x; archive members as 'archive!member'."""
    for pkg, arc, _, _, folder in ARCHIVES:
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
    """(event, samples trimmed from its start). Trim silence (10-ms frames 50 dB under the loudest), fade 5 ms in
    and 30 ms out, loudest 50 ms at EVENT_RMS, soft-limit. An event cut while still sounding (a rumble longer
    than its cut) would stop with a click after 30 ms, so it fades over its last quarter instead (at most 1.5 s)."""
    y = y - y.mean()
    h = min(int(0.01 * SR), len(y) // 10)  # pops and clicks: tenths
    e = frames_rms(y, h)
    keep = np.nonzero(e > e.max() * 10 ** (-50 / 20))[0]
    a = keep[0] * h
    y = y[a:(keep[-1] + 1) * h].copy()
    still = frames_rms(y[-h * 10:], h).max() > e.max() * 10 ** (-30 / 20)
    fi = min(int(0.005 * SR), len(y) // 4)
    fo = min(int(1.5 * SR), len(y) // 4) if still else min(int(0.03 * SR), len(y) // 2)
    y[:fi] *= np.linspace(0, 1, fi)
    y[-fo:] *= np.linspace(1, 0, fo) ** (2 if still else 1)
    w = min(int(0.05 * SR), len(y))
    loud = np.sqrt(np.convolve(y ** 2, np.ones(w) / w, "valid").max())
    return soft_limit(y * EVENT_RMS / (loud + 1e-12)), a


def find_events(x, n, lo_hi, min_s, max_s):
    """The n loudest bursts of the band envelope that stand >= 10 dB over the recording's floor (its 20th
    percentile), loudest first, not overlapping. Each runs from where the envelope last rose through half its
    height above the floor (in dB) to where it falls 30 dB under its peak or to 3 dB over the floor, within
    [min_s, max_s] (at most a third of max_s before the peak)."""
    step = max(0.001, min(0.01, min_s / 5))
    hop = int(step * SR)
    e = 20 * np.log10(frames_rms(band(x, *lo_hi), hop))
    e = np.convolve(e, np.ones(3) / 3, "same")
    floor = np.percentile(e, 20)
    lo_n, hi_n = max(1, int(round(min_s / step))), int(max_s / step)
    taken = np.zeros(len(e), bool)
    out = []
    for i in np.argsort(-e, kind="stable"):
        if len(out) == n or e[i] < floor + 10:
            break
        if taken[i]:
            continue
        a = i
        while a > 0 and e[a - 1] > floor + (e[i] - floor) / 2 and i - a < hi_n // 3 and not taken[a - 1]:
            a -= 1
        b = i
        while b < len(e) - 1 and e[b + 1] > max(e[i] - 30, floor + 3) and b - a < hi_n and not taken[b + 1]:
            b += 1
        b = min(len(e) - 1, max(b, a + lo_n))
        if taken[a:b + 1].any() or b - a + 1 < lo_n:
            taken[a:b + 1] = True
            continue
        taken[a:b + 1] = True
        out.append((round(a * step, 3), round((b - a + 1) * step, 3)))
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
    """kurtosis: of the 2-10 kHz band (3 for hiss; drops, pops and calls make it larger);
    transients/s: 5-ms frames of that band at 4x the median of the 200 ms around them, rising (drops, pops);
    swell s / corr: strongest period of the 0.1-s envelope in 3-15 s and its autocorrelation (surf);
    low / high: share of energy under 200 Hz / over 4 kHz; crest dB: peak over RMS;
    env dB: 10-90 % spread of the 0.1-s envelope in dB (gusts, swells, calls)."""
    b = band(y, 2000, 10000)
    kurt = float(np.mean(b ** 4) / (np.mean(b ** 2) ** 2 + 1e-30))
    p = frames_rms(b, int(0.005 * SR)) ** 2
    med = median_filter(p, 41)
    trans = int(np.sum((p > 4 * med) & np.r_[True, p[1:] > p[:-1]]))
    env = frames_rms(y, min(int(0.1 * SR), len(y) // 8))  # events shorter than 0.8 s: eighths
    e = env - env.mean()
    ac = np.correlate(e, e, "full")[len(e) - 1:] / (np.sum(e ** 2) + 1e-12)
    lo, hi = 30, min(150, len(ac) - 1)
    lag = lo + int(np.argmax(ac[lo:hi])) if hi > lo else 0
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / SR)
    edb = 20 * np.log10(env)
    return dict(kurtosis=round(kurt, 1), transients_per_s=round(trans / (len(y) / SR), 1),
                swell_s=round(lag / 10, 1), swell_corr=round(float(ac[lag]) if lag else 0.0, 2),
                low=round(float(spec[f < 200].sum() / spec.sum()), 3),
                high=round(float(spec[f > 4000].sum() / spec.sum()), 3),
                crest_db=round(float(20 * np.log10(np.abs(y).max() / np.sqrt(np.mean(y ** 2)))), 1),
                env_db=round(float(np.percentile(edb, 90) - np.percentile(edb, 10)), 1),
                seconds=round(len(y) / SR, 2))


def grain(y):
    """Fine grain as issue 22 defines it: 24 log-spaced bands (150 Hz-12 kHz, 10-ms frames) in dB, less each
    band's 1-s moving mean and each frame's common level; each band standardised. Shape [frames, bands]."""
    f, _, z = stft(y, SR, nperseg=1024, noverlap=1024 - 441, boundary=None, padded=False)
    edges = np.geomspace(150, 12000, 25)
    p = np.abs(z) ** 2
    g = np.stack([10 * np.log10(p[(f >= lo) & (f < hi)].mean(axis=0) + 1e-12)
                  for lo, hi in zip(edges[:-1], edges[1:])], axis=1)
    g = g - np.apply_along_axis(lambda c: np.convolve(c, np.ones(100) / 100, "same"), 0, g)
    g = g[50:-50]
    g = g - g.mean(axis=1, keepdims=True)
    return (g - g.mean(axis=0)) / (g.std(axis=0) + 1e-9)


def repeats(a, b=None, min_lag_s=1.0, min_overlap_s=4.0):
    """Largest correlation of the fine grain of a with itself shifted (lags >= min_lag_s), or with b at any lag,
    over overlaps of at least min_overlap_s: (r, lag s). Near 1 where material repeats; 0.02-0.15 for unrelated
    recordings (issue 22). Pearson per band over the overlap, averaged over the bands."""
    ga = grain(a)
    gb = ga if b is None else grain(b)
    na, nb = len(ga), len(gb)
    m = 1 << (na + nb - 1).bit_length()

    def xc(u, v):  # per band: sum over i of u[i] * v[i + lag], for lag = -(na - 1) .. nb - 1
        c = np.fft.irfft(np.fft.rfft(v, m, axis=0) * np.conj(np.fft.rfft(u, m, axis=0)), m, axis=0)
        return np.r_[c[m - (na - 1):], c[:nb]]

    lags = np.arange(-(na - 1), nb)
    ones_a, ones_b = np.ones_like(ga), np.ones_like(gb)
    n = np.rint(xc(ones_a[:, :1], ones_b[:, :1]))[:, 0]
    sa, sb = xc(ga, ones_b), xc(ones_a, gb)
    saa, sbb = xc(ga ** 2, ones_b), xc(ones_a, gb ** 2)
    nn = np.maximum(n, 1)[:, None]
    var = np.maximum((saa - sa ** 2 / nn) * (sbb - sb ** 2 / nn), 1e-12)
    r = ((xc(ga, gb) - sa * sb / nn) / np.sqrt(var)).mean(axis=1)
    ok = n >= min_overlap_s / 0.01
    if b is None:
        ok &= np.abs(lags) >= min_lag_s / 0.01
    if not ok.any():
        return 0.0, 0.0
    r = np.where(ok, r, -1)
    k = int(np.argmax(r))
    return round(float(r[k]), 2), round(float(lags[k] * 0.01), 2)


def thunder_kind(y):
    """clap: the envelope rises >= 20 dB within 150 ms of the start; else rumble."""
    e = 20 * np.log10(frames_rms(y, int(0.01 * SR)))
    return "clap" if e[:15].max() - e[0] >= 20 or np.argmax(e) < 15 and e.max() - e[0] >= 12 else "rumble"


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
            if not 6 * SR <= len(y) <= 20 * SR:
                raise SystemExit(f"{src}: {len(y) / SR:.1f} s from {start} s, not 6-20 s")
            y = normalise_bed(y)
            rel = f"{sid}/{name}.flac"
            os.makedirs(os.path.join(OUT, sid), exist_ok=True)
            n = write_flac(os.path.join(OUT, rel), y)
            record(rel, src, start, n / SR, y)
            report[rel]["self_repeat"] = repeats(y)
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
                y, trimmed = finish_event(x[a:a + int(seconds * SR)])
                rel = f"{sid}/events/{name}" + (f"-{k + 1}" if spec[2] == "auto" else "") + ".flac"
                os.makedirs(os.path.join(OUT, sid, "events"), exist_ok=True)
                n = write_flac(os.path.join(OUT, rel), y)
                record(rel, src, (a + trimmed) / SR, n / SR, y)
                if sid == "thunderstorm":
                    report[rel]["kind"] = thunder_kind(y)
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
    for sid, st in styles.items():
        clips = {r: decode(os.path.join(OUT, r)) for r in st["bed"]}
        pairs = [(repeats(clips[r], clips[q]), r, q) for i, r in enumerate(st["bed"]) for q in st["bed"][i + 1:]]
        report[sid] = dict(cross_repeat=max(pairs)[0] if pairs else None,
                           cross_repeat_pair=max(pairs)[1:] if pairs else None)
        worst = max([report[r]["self_repeat"][0] for r in st["bed"]] + [p[0][0] for p in pairs])
        if worst > MAX_REPEAT:
            raise SystemExit(f"{sid}: bed material repeats (fine-grain r {worst} > {MAX_REPEAT}): {report[sid]}")
    with open(os.path.join(BUILD, "banks_report.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    summary(index, report)


def write_attribution(index):
    lines = ["# Sound attributions", "",
             "The Noise Enricher's nature and vinyl styles play real recordings, kept as banks of short clips",
             "(`models/banks/<style>/*.flac`: beds; `models/banks/<style>/events/*.flac`: single events; mono, 16-bit,",
             "44.1 kHz FLAC). Each is a cut from the file below, level-normalised (beds) or trimmed, faded and",
             "normalised (events) by `models/training/banks.py`, otherwise unchanged. They come from these Debian",
             "packages (bookworm), under these licences (copyright as stated in `/usr/share/doc/<package>/copyright`",
             "or the game's own credits file it points to). `index.json` holds the same, per file, for machines.",
             "`archive!member` is a file inside a game archive (zip/pk3, OpenClonk's C4Group, OpenTTD's sound",
             "catalogue, where the member is the entry's number).", "",
             "| file | package (version) | path in the package | cut (s) | copyright | licence |",
             "|---|---|---|---|---|---|"]
    for rel, f in index["files"].items():
        lines.append(f"| `{rel}` | {f['package']} {f['version']} | `{f['path']}` | {f['start']:g} + {f['seconds']:g} "
                     f"| {f['copyright']} | {f['licence']} |")
    used = sorted({f["licence"] for f in index["files"].values()})
    lines += ["", "The clips are adaptations of the works above and are shared under the same licences. Licence texts:"]
    lines += [f"- {lic}: {LICENCE_TEXT[lic]}" for lic in used] + [""]
    with open(os.path.join(OUT, "ATTRIBUTION.md"), "w") as fh:
        fh.write("\n".join(lines))


def summary(index, report):
    total = 0
    for sid, s in index["styles"].items():
        bed_s = sum(index["files"][r]["seconds"] for r in s["bed"])
        pk = sorted({index["files"][r]["package"] for r in s["bed"]})
        size = sum(os.path.getsize(os.path.join(OUT, r)) for r in s["bed"] + s["events"])
        kinds = [report[r]["kind"] for r in s["events"] if "kind" in report[r]]
        kinds = f" ({kinds.count('clap')} claps, {kinds.count('rumble')} rumbles)" if kinds else ""
        print(f"{sid:13s} bed {len(s['bed'])} files {bed_s:6.1f} s from {', '.join(pk)}; "
              f"{len(s['events'])} events{kinds}; {size / 1e6:.2f} MB; fine-grain repeat: within a clip <= "
              f"{max(report[r]['self_repeat'][0] for r in s['bed']):.2f}, between clips "
              f"{report[sid]['cross_repeat'][0] if report[sid]['cross_repeat'] is not None else '-'}", flush=True)
    for root, _, fs in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in fs)
    print(f"models/banks: {total / 1e6:.2f} MB", flush=True)


if __name__ == "__main__":
    main()
