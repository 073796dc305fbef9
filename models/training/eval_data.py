"""Real recordings for the independent evaluation: which Debian package and file each clip comes from, how
it is fetched (apt-get download + dpkg-deb, into build/, nothing installed) and decoded (ffmpeg, mono 44.1 kHz).

The split is binding (issue 13): nothing here comes from the packages the model side trains on, builds its
texture bank from or ships (MODEL_SIDE), nor from the packages reserved for the project's external check
(RESERVED). `check_split()` enforces it. Held-out inputs and classifier references come from disjoint
packages, so the classifier never saw the music it is applied to.
"""
import fnmatch
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
DEBS = os.path.join(BUILD, "debs")
PKGS = os.path.join(BUILD, "pkgs")
CACHE = os.path.join(BUILD, "eval-audio")
SR = 44100

MODEL_SIDE = ["0ad-data", "0ad-data-common", "redeclipse-data", "ardentryst", "sonic-pi-samples", "lmms-common",
              "plee-the-bear-data", "lugaru-data", "hydrogen-drumkits", "hydrogen-data", "triplea", "krank",
              "caveexpress-data", "qabcs-data", "freepats", "fluid-soundfont-gm", "musescore-general-soundfont",
              "timgm6mb-soundfont", "cube2-data", "openclonk-data", "ufoai-sound", "openttd-opensfx"]
RESERVED = ["flightgear-data-base", "scorched3d-data", "megaglest-data", "widelands-data", "minetest-data",
            "flare-game", "flare-data", "supertux-data", "supertuxkart-data", "wesnoth", "fretsonfire-songs",
            "singularity-music", "drascula-music", "hyperrogue-music", "tuxpaint-stamps-default", "csoundqt-examples",
            "lgc-pg", "asterisk-moh-opsound-wav"]

CLASSES = ["rain", "thunder", "surf", "wind", "birds", "fire", "crackle", "hiss", "metal", "speech", "music"]

# (class, package, path inside the package, start s, duration s or None = to the end)
_7K = "usr/share/games/7kaa/SOUND/"
_SR = "usr/share/games/searchandrescue/sounds/"
_ST = "usr/share/games/simutrans/pak/sound/"
_BT = "usr/share/games/btanks/data/sounds/"
_SC = "usr/share/scratch/Media/Sounds/"
_WX = "usr/share/games/warmux/music/ingame/"
_XM = "usr/share/games/xmoto/Textures/Musics/"
_KT = "usr/share/ktuberling/sounds/en/"
_SH = "usr/share/games/seahorse-adventures/data/music/"
CLASS_SOURCES = [
    ("rain", "7kaa-data", _7K + "RAIN.WAV", 0, None),
    ("thunder", "7kaa-data", _7K + "THUNDER.WAV", 0, None),
    ("thunder", "gl-117-data", "usr/share/games/gl-117/sounds/thunder1.wav", 0, None),
    ("thunder", "searchandrescue-data", _SR + "thunder_loud.wav", 0, None),
    ("thunder", "searchandrescue-data", _SR + "thunder_moderate.wav", 0, None),
    ("thunder", "searchandrescue-data", _SR + "thunder_faint.wav", 0, None),
    ("surf", "simutrans-pak64", _ST + "Water.wav", 0, None),
    ("wind", "7kaa-data", _7K + "WIND.WAV", 0, None),
    ("wind", "simutrans-pak64", _ST + "arctic.wav", 0, None),
    ("birds", "btanks-data", _BT + "ambient/forest.ogg", 0, 60),
    ("birds", "gnome-shell-pomodoro-data", "usr/share/gnome-pomodoro/sounds/birds.ogg", 0, 60),
    ("birds", "simutrans-pak64", _ST + "forest.wav", 0, None),
    ("birds", "simutrans-pak64", _ST + "tropic.wav", 0, None),
    ("birds", "simutrans-pak64", _ST + "seagulls.wav", 0, None),
    ("birds", "freedink-data", "usr/share/games/dink/dink/Sound/bird1.wav", 0, None),
    ("birds", "scratch", _SC + "Animal/Bird.wav", 0, None),
    ("fire", "btanks-data", _BT + "fire.ogg", 0, None),
    ("fire", "btanks-data", _BT + "fire-fadeout.ogg", 0, None),
    ("fire", "freedink-data", "usr/share/games/dink/dink/Sound/burn.wav", 0, None),
    ("fire", "micropolis-data", "usr/share/games/micropolis/res/sounds/fire.wav", 0, None),
    # tworld-data's crackle.wav is an electric crackle, not a record's: with it the class had a 0 % ceiling
    ("crackle", "horgand-data", "usr/share/horgand/crackle_loop01.wav", 0, None),
    ("hiss", "freedroid-data", "usr/share/games/freedroid/sound/WhiteNoise.wav", 0, None),
    ("hiss", "pysiogame", "usr/share/games/pysiogame/res/sounds/sfx_noise01.ogg", 0, None),
    ("hiss", "simutrans-pak64", _ST + "steam.wav", 0, None),
    ("hiss", "madbomber-data", "usr/share/games/madbomber/sounds/spray.wav", 0, None),
    ("metal", "xmoto-data", _XM + "speeditup.ogg", 0, 60),
    ("metal", "warmux-data", _WX + "diabolicux.ogg", 16, 60),
    ("metal", "warmux-data", _WX + "Olivier_Militon.-.Like_a_rock.ogg", 8, 60),
    ("speech", "ktuberling-data", "usr/share/ktuberling/sounds/en/*", 0, 25),
    ("speech", "ktuberling-data", "usr/share/ktuberling/sounds/de/*", 0, 25),
    ("speech", "ktuberling-data", "usr/share/ktuberling/sounds/fr/*", 0, 25),
    ("speech", "ktuberling-data", "usr/share/ktuberling/sounds/es/*", 0, 25),
    ("speech", "ktuberling-data", "usr/share/ktuberling/sounds/it/*", 0, 25),
    ("speech", "ktuberling-data", "usr/share/ktuberling/sounds/nl/*", 0, 25),
    ("speech", "pingus-data", "usr/share/games/pingus/data/sounds/goodidea.wav", 0, None),
    ("speech", "pingus-data", "usr/share/games/pingus/data/sounds/letsgo.wav", 0, None),
    ("speech", "pingus-data", "usr/share/games/pingus/data/sounds/ohno.wav", 0, None),
    ("speech", "tuxtype-data", "usr/share/tuxtype/sounds/excuseme.wav", 0, None),
    ("music", "seahorse-adventures", _SH + "1.ogg", 0, 40),
    ("music", "seahorse-adventures", _SH + "3.ogg", 0, 40),
    ("music", "seahorse-adventures", _SH + "5.ogg", 0, 40),
    ("music", "seahorse-adventures", _SH + "title.ogg", 0, 40),
    ("music", "tuxtype-data", "usr/share/tuxtype/sounds/tuxi.ogg", 0, 40),
    ("music", "tuxtype-data", "usr/share/tuxtype/sounds/chiptune2.ogg", 0, 40),
    ("music", "mazeofgalious-data", "usr/share/games/mazeofgalious/sound/jorito/castle.ogg", 0, 40),
    ("music", "warmux-data", _WX + "circux.ogg", 10, 40),
    ("music", "warmux-data", _WX + "woodlux.ogg", 10, 40),
    ("music", "warmux-data", _WX + "Olivier_Militon.-.Vogue_a_lame.ogg", 10, 40),
    ("music", "xmoto-data", _XM + "batcave.ogg", 10, 40),
    ("music", "xmoto-data", _XM + "legolodio.ogg", 10, 40),
    ("music", "xmoto-data", _XM + "MadeiraStew.ogg", 10, 40),
    ("music", "scratch", _SC + "Music Loops/Garden.mp3", 0, None),
    ("music", "scratch", _SC + "Music Loops/Medieval1.mp3", 0, None),
    ("music", "scratch", _SC + "Music Loops/GuitarChords1.mp3", 0, None),
    ("music", "scratch", _SC + "Music Loops/Xylo1.mp3", 0, None),
    ("music", "scratch", _SC + "Music Loops/Techno.mp3", 0, None),
]

# Held-out inputs: packages that no class reference comes from. (name, genre, package, path, start, duration)
_HW = "usr/share/games/hedgewars/Data/Music/"
HELDOUT_MUSIC = [
    ("freecol-sunrise", "orchestral", "freecol", "usr/share/games/freecol/default/resources/music/default/sunrise.ogg", 30, 20),
    ("enigma-rag", "ragtime piano", "enigma-data", "usr/share/games/enigma/music/menu/enigma_rag.ogg", 20, 20),
    ("hedgewars-rock", "rock", "hedgewars-data", _HW + "Rock.ogg", 40, 20),
    ("hedgewars-oriental", "world / orchestral", "hedgewars-data", _HW + "oriental.ogg", 30, 20),
    ("raincat", "jazz / lounge", "raincat-data", "usr/share/games/raincat/data/music/project_raincat.ogg", 20, 20),
    ("freedroidrpg-bleostrada", "electronic", "freedroidrpg-data", "usr/share/freedroidrpg/data/sound/music/Bleostrada.ogg", 30, 20),
]
_FN = "usr/share/games/fillets-ng/sound/"
HELDOUT_SPEECH_PARTS = ("fillets-ng-data-cs", _FN, "/cs/", 20)  # package, folder, language folder, seconds: the two fish talking (Czech voice actors), files *-m-*, *-v-*


def check_split(pkgs):
    bad = [p for p in pkgs if p in MODEL_SIDE or any(p == r or p.startswith(r + "-") for r in RESERVED)]
    if bad:
        raise SystemExit(f"evaluation would use model-side or reserved packages: {bad}")


def all_packages():
    pk = {s[1] for s in CLASS_SOURCES} | {h[2] for h in HELDOUT_MUSIC} | {HELDOUT_SPEECH_PARTS[0]}
    return sorted(pk)


def _extracted(pkg):
    return os.path.isfile(os.path.join(PKGS, pkg, ".extracted"))


def fetch(pkgs=None):
    """apt-get download + dpkg-deb -x (audio and copyright only) for every package not extracted yet."""
    pkgs = pkgs or all_packages()
    check_split(pkgs)
    missing = [p for p in pkgs if not _extracted(p)]
    if not missing:
        return
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise SystemExit("models:eval needs apt-get and dpkg-deb (Debian/Ubuntu) to fetch its recordings: "
                         f"missing packages {missing}; or extract those .deb files under {PKGS}/<package>/ yourself")
    os.makedirs(DEBS, exist_ok=True)
    need = [p for p in missing if not any(f.startswith(p + "_") for f in os.listdir(DEBS))]
    if need:
        print(f"fetching {len(need)} Debian packages: {' '.join(need)}", flush=True)
        r = subprocess.run(["apt-get", "download"] + need, cwd=DEBS, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"apt-get download failed (run `apt-get update` first?):\n{r.stderr[-2000:]}")
    for p in missing:
        deb = [f for f in os.listdir(DEBS) if f.startswith(p + "_") and f.endswith(".deb")]
        if not deb:
            raise SystemExit(f"no .deb for {p} in {DEBS}")
        dest = os.path.join(PKGS, p)
        os.makedirs(dest, exist_ok=True)
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", os.path.join(DEBS, sorted(deb)[-1])], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", dest, "--wildcards", "*.ogg", "*.wav", "*.WAV", "*.mp3", "*copyright"],
                       stdin=tar.stdout, check=False, stderr=subprocess.DEVNULL)
        tar.wait()
        open(os.path.join(dest, ".extracted"), "w").close()


def decode(pkg, path, start=0.0, dur=None):
    """Mono float32 at 44.1 kHz, cached under build/eval-audio/."""
    src = os.path.join(PKGS, pkg, path)
    if "*" in path:  # many short clips (spoken words): joined with short pauses, up to `dur` seconds
        parts = []
        for f in sorted(glob.glob(src)):
            parts += [decode(pkg, os.path.relpath(f, os.path.join(PKGS, pkg))), np.zeros(SR // 6, np.float32)]
            if dur and sum(map(len, parts)) >= dur * SR:
                break
        if not parts:
            raise SystemExit(f"no files match {src} (package {pkg})")
        return np.concatenate(parts)[:int(dur * SR) if dur else None]
    key = hashlib.sha1(f"{pkg}/{path}/{start}/{dur}".encode()).hexdigest()[:16]
    out = os.path.join(CACHE, key + ".npy")
    if os.path.exists(out):
        return np.load(out)
    if not os.path.exists(src):
        raise SystemExit(f"missing {src} (package {pkg})")
    cmd = ["ffmpeg", "-v", "error", "-ss", str(start)]
    if dur:
        cmd += ["-t", str(dur)]
    cmd += ["-i", src, "-ac", "1", "-ar", str(SR), "-f", "f32le", "-"]
    x = np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, np.float32).copy()
    os.makedirs(CACHE, exist_ok=True)
    np.save(out, x)
    return x


def heldout_speech():
    pkg, folder, lang, seconds = HELDOUT_SPEECH_PARTS
    root = os.path.join(PKGS, pkg, folder)
    files = sorted(os.path.relpath(os.path.join(d, f), os.path.join(PKGS, pkg))
                   for d, _, fs in os.walk(root) for f in fs if f.endswith(".ogg") and lang in os.path.join(d, f) and re.search(r"-[mv]-", f))
    parts, total, used = [], 0, []
    gap = np.zeros(int(0.25 * SR), np.float32)
    for rel in files:
        x = decode(pkg, rel)
        if len(x) < SR // 2:
            continue
        parts += [x, gap]
        used.append(rel)
        total += len(x) + len(gap)
        if total >= seconds * SR:
            break
    return np.concatenate(parts)[:seconds * SR], used


# ------------------------------------------------------------------ licences
# read by hand where the copyright file's wording defeats the parser below
LICENCE_NOTES = {
    ("freedink-data", "burn.wav"): "GPL-3+ / CC-BY-3.0 (free sound replacements; see copyright)",
    ("freedink-data", "bird1.wav"): "GPL-3+ / CC-BY-3.0 (free sound replacements; see copyright)",
    ("tuxtype-data", "tuxi.ogg"): "public domain (Emmett Plant, per copyright)",
    ("searchandrescue-data", None): "GPL (version unstated; per copyright)",
}


def licence(pkg, path):
    note = LICENCE_NOTES.get((pkg, os.path.basename(path))) or LICENCE_NOTES.get((pkg, None))
    if note:
        return note
    """The licence of one file from the package's debian/copyright: the DEP-5 stanza whose Files pattern
    matches the installed path (or its file name), else the list of licences the file names."""
    cands = [os.path.join(PKGS, pkg, "usr/share/doc", pkg, "copyright")]
    cands += [os.path.join(d, "copyright") for d, _, fs in os.walk(os.path.join(PKGS, pkg, "usr/share/doc")) if "copyright" in fs]
    cp = next((c for c in cands if os.path.exists(c)), None)
    if cp is None:
        return "see /usr/share/doc/%s/copyright" % pkg
    text = open(cp, encoding="utf-8", errors="replace").read()
    stanzas = re.split(r"\n\s*\n", text)
    best, star = None, None
    name = os.path.basename(path)
    for st in stanzas:
        mf = re.search(r"^Files:\s*(.*(?:\n[ \t]+.*)*)", st, re.M)
        ml = re.search(r"^License:[ \t]*(\S.*)$", st, re.M)
        if not mf or not ml:
            continue
        pats = mf.group(1).split()
        lic = ml.group(1).strip()
        for p in pats:
            if p == "*":
                star = lic
            elif fnmatch.fnmatch(path, "*" + p.lstrip("./")) or fnmatch.fnmatch(name, os.path.basename(p)) and "*" not in os.path.basename(p):
                best = lic
    if best or star:
        return best or star
    lics = sorted(set(re.findall(r"^License:[ \t]*(\S.*)$", text, re.M)))
    if lics:
        return ", ".join(lics)
    for kw in ["GPL-3", "GPL-2", "GPL", "Creative Commons", "CC-BY-SA", "public domain", "BSD", "MIT", "Artistic"]:
        if kw.lower() in text.lower():
            return kw + " (per copyright text)"
    return "see copyright"
