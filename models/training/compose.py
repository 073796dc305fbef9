"""Music composed in code (python3-mido) and rendered with fluidsynth.

A *score* is a small dict: tempo, key, chord roots per bar, melody notes and a dynamics curve.
From one score we render the dry music (melody + chords + bass in varied General-MIDI
instruments) and, for the MIDI styles, the style layer played *with* that music: a blues
shuffle on the same chords, a boom-bap beat on the same bar grid, metal chugs, a piano
doubling. The model learns music -> layer, so the layer follows the music's rhythm,
harmony and dynamics.
"""
import os
import subprocess
import tempfile

import mido
import numpy as np
import soundfile as sf

SR = 44100
SF_FLUID = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SF_TIM = "/usr/share/sounds/sf2/TimGM6mb.sf2"
SF_MUSESCORE = "/usr/share/sounds/sf3/MuseScore_General.sf3"

MAJOR = [0, 2, 4, 5, 7, 9, 11]
MINOR = [0, 2, 3, 5, 7, 8, 10]
PROGRESSIONS = {
    "major": [[0, 3, 4, 0], [0, 5, 3, 4], [1, 4, 0, 0], [0, 3, 0, 4], [0, 0, 3, 3, 0, 0, 4, 3]],
    "minor": [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 4], [0, 3, 0, 4]],
}
# Dry-music instruments (General MIDI programs). Piano, guitars and distorted sounds are kept
# out of the dry pools so the piano/blues/metal layers are something the music did not have.
TRAIN_MELODY = [73, 40, 56, 71, 65, 68, 80, 11, 12, 21, 74, 41]
TRAIN_CHORDS = [48, 88, 19, 52, 4, 61, 89, 16, 49]
TRAIN_BASS = [32, 33, 42, 43, 39]
HELDOUT_MELODY = [6, 8, 75, 60, 69, 57, 79, 13]
HELDOUT_CHORDS = [50, 91, 94, 5, 20, 92]
HELDOUT_BASS = [35, 58, 87]


def make_score(rng, key, tempo, mode, seconds, heldout=False):
    beat = 60.0 / tempo
    bars = int(np.ceil(seconds / (4 * beat))) + 1
    prog = PROGRESSIONS[mode][rng.randint(len(PROGRESSIONS[mode]))]
    scale = MAJOR if mode == "major" else MINOR
    roots = [prog[b % len(prog)] for b in range(bars)]
    # dynamics: a smooth random curve with crescendos / drops, velocity 35..120
    pts = rng.uniform(35, 120, bars + 2)
    pts[rng.randint(bars)] = rng.uniform(30, 50)
    dyn = lambda b: float(np.interp(b, np.arange(bars + 2) - 0.5, pts))  # noqa: E731
    melody = []
    octave = 72 if rng.rand() < 0.6 else 60
    deg = 0
    density = rng.uniform(0.45, 0.95)
    for b in range(bars):
        t = 0.0
        while t < 4.0:
            d = rng.choice([0.5, 0.5, 1.0, 1.0, 1.5, 2.0, 0.25 * 2])
            if rng.rand() < density:
                if rng.rand() < 0.5:
                    deg = roots[b] + rng.choice([0, 2, 4])
                else:
                    deg += rng.choice([-2, -1, 1, 2])
                deg = int(np.clip(deg, -3, 10))
                pitch = key + octave + 12 * (deg // 7) + scale[deg % 7]
                vel = int(np.clip(dyn(b + t / 4) + rng.uniform(-10, 10) + (8 if t % 1 == 0 else 0), 20, 127))
                melody.append((b * 4 + t, min(d, 4.0 - t) * 0.95, pitch, vel))
            t += d
    chord_style = rng.choice(["pad", "pulse", "stab"])
    return dict(tempo=tempo, key=key, mode=mode, bars=bars, roots=roots, scale=scale, melody=melody,
                dyn_pts=pts.tolist(), chord_style=chord_style, seconds=seconds, heldout=heldout,
                drums=bool(rng.rand() < 0.35))


def _dyn(score, b):
    pts = score["dyn_pts"]
    return float(np.interp(b, np.arange(len(pts)) - 0.5, pts))


def chord_pitches(score, bar, base=48, seventh=False):
    sc, key = score["scale"], score["key"]
    r = score["roots"][bar]
    degs = [r, r + 2, r + 4] + ([r + 6] if seventh else [])
    return [key + base + 12 * (d // 7) + sc[d % 7] for d in degs]


def root_pitch(score, bar, base=36):
    sc, key = score["scale"], score["key"]
    r = score["roots"][bar]
    return key + base + 12 * (r // 7) + sc[r % 7]


def to_midi(score, parts, path):
    """parts: list of (channel, program, [(start_beat, dur_beats, pitch, vel)])."""
    tpb = 480
    mid = mido.MidiFile(ticks_per_beat=tpb)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(score["tempo"]), time=0))
    ev = []
    for ch, prog, notes in parts:
        if ch != 9:
            ev.append((0, 0, mido.Message("program_change", channel=ch, program=prog, time=0)))
        for s, d, p, v in notes:
            on = int(round(s * tpb))
            off = int(round((s + max(d, 0.05)) * tpb))
            ev.append((on, 2, mido.Message("note_on", channel=ch, note=int(p), velocity=int(v), time=0)))
            ev.append((off, 1, mido.Message("note_off", channel=ch, note=int(p), velocity=0, time=0)))
    ev.sort(key=lambda e: (e[0], e[1]))
    now = 0
    for t, _, msg in ev:
        tr.append(msg.copy(time=t - now))
        now = t
    mid.save(path)


def render(score, parts, soundfont, gain=0.6):
    n = int(score["seconds"] * SR)
    with tempfile.TemporaryDirectory() as d:
        mpath, wpath = os.path.join(d, "x.mid"), os.path.join(d, "x.wav")
        to_midi(score, parts, mpath)
        subprocess.run(["fluidsynth", "-ni", "-g", str(gain), "-F", wpath, "-r", str(SR), soundfont, mpath],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        x, sr = sf.read(wpath, dtype="float32", always_2d=True)
    assert sr == SR
    x = x.mean(1)
    out = np.zeros(n, np.float32)
    out[: min(n, len(x))] = x[:n]
    return out


def dry_parts(score, rng):
    mel_pool, ch_pool, bass_pool = ((HELDOUT_MELODY, HELDOUT_CHORDS, HELDOUT_BASS) if score["heldout"]
                                    else (TRAIN_MELODY, TRAIN_CHORDS, TRAIN_BASS))
    melody = list(score["melody"])
    chords, bass = [], []
    for b in range(score["bars"]):
        v = _dyn(score, b)
        cp = chord_pitches(score, b, base=48 + rng.choice([0, 12]) if False else 48)
        if score["chord_style"] == "pad":
            chords += [(b * 4, 3.9, p, int(np.clip(v * 0.7, 20, 110))) for p in cp]
        elif score["chord_style"] == "pulse":
            for k in range(4):
                chords += [(b * 4 + k, 0.8, p, int(np.clip(v * 0.7, 20, 110))) for p in cp]
        else:
            for k in (0, 1.5, 2.5):
                chords += [(b * 4 + k, 0.4, p, int(np.clip(v * 0.75, 20, 110))) for p in cp]
        rp = root_pitch(score, b)
        bass += [(b * 4, 1.8, rp, int(np.clip(v * 0.8, 20, 120))), (b * 4 + 2, 1.8, rp, int(np.clip(v * 0.7, 20, 120)))]
    parts = [(0, int(rng.choice(mel_pool)), melody), (1, int(rng.choice(ch_pool)), chords)]
    if rng.rand() < 0.75:
        parts.append((2, int(rng.choice(bass_pool)), bass))
    if score["drums"]:
        dr = []
        for b in range(score["bars"]):
            v = _dyn(score, b) * 0.6
            for k in range(4):
                dr.append((b * 4 + k, 0.1, 42 if k % 2 == 0 else 44, int(np.clip(v, 15, 100))))
            dr.append((b * 4 + 2, 0.1, 39, int(np.clip(v, 15, 100))))
        parts.append((9, 0, dr))
    return parts


def _vel(score, b, scale=1.0, jitter=0, rng=None):
    v = _dyn(score, b) * scale + (rng.uniform(-jitter, jitter) if rng is not None else 0)
    return int(np.clip(v, 15, 127))


def blues_parts(score, rng):
    swing = 2.0 / 3.0
    bass, gtr, harp = [], [], []
    for b in range(score["bars"]):
        rp = root_pitch(score, b, base=36)
        walk = [0, 4, 7, 9, 10, 9, 7, 4]
        for k in range(4):
            for half, off in ((0, 0.0), (1, swing)):
                i = 2 * k + half
                bass.append((b * 4 + k + off, 0.3, rp + walk[i], _vel(score, b, 0.9, 6, rng)))
        gr = root_pitch(score, b, base=48)
        for k in range(4):
            six = 9 if k % 2 else 7
            for off in (0.0, swing):
                for p in (gr, gr + six):
                    gtr.append((b * 4 + k + off, 0.28, p, _vel(score, b, 0.85, 8, rng)))
    blue = {4: 3, 11: 10, 7: 6}
    for s, d, p, v in score["melody"]:
        rel = (p - score["key"]) % 12
        q = p - score["key"] + score["key"]
        if rel in blue and rng.rand() < 0.5:
            q = p - (rel - blue[rel])
        harp.append((s + (swing - 0.5 if (s % 1) == 0.5 else 0), d, q, int(np.clip(v * 0.9, 20, 127))))
    return [(0, 33, bass), (1, 27, gtr), (2, 22, harp)]


def hiphop_parts(score, rng):
    dr, sub, keys = [], [], []
    swing = 0.58
    for b in range(score["bars"]):
        v = _vel(score, b, 1.0, 0)
        for k in (0.0, 1.5, 2.25 if rng.rand() < 0.5 else 2.5):
            dr.append((b * 4 + k, 0.2, 36, min(127, v + 10)))
        for k in (1.0, 3.0):
            dr.append((b * 4 + k, 0.2, 38, min(127, v + 5)))
        for k in range(4):
            dr.append((b * 4 + k, 0.1, 42, int(v * 0.6)))
            dr.append((b * 4 + k + swing, 0.1, 42, int(v * 0.45)))
        rp = root_pitch(score, b, base=24)
        sub.append((b * 4, 1.4, rp, v))
        sub.append((b * 4 + 2.5, 1.2, rp, int(v * 0.85)))
        cp = chord_pitches(score, b, base=60, seventh=True)
        keys += [(b * 4 + 0.5, 0.4, p, int(v * 0.55)) for p in cp]
    return [(9, 0, dr), (0, 38, sub), (1, 4, keys)]


def metal_parts(score, rng):
    gtr, bass, dr = [], [], []
    for b in range(score["bars"]):
        v = _vel(score, b, 1.0, 0)
        rp = root_pitch(score, b, base=28)
        while rp < 38:
            rp += 12
        for k in range(16):
            accent = k % 4 == 0 or rng.rand() < 0.2
            dur = 0.22 if accent else 0.12
            vv = min(127, v + (12 if accent else -5))
            for p in (rp, rp + 7, rp + 12) if accent else (rp, rp + 7):
                gtr.append((b * 4 + k * 0.25, dur, p, vv))
            bass.append((b * 4 + k * 0.25, 0.2, rp - 12, vv))
            dr.append((b * 4 + k * 0.25, 0.1, 36, min(127, v + 8)))
        for k in (1, 3):
            dr.append((b * 4 + k, 0.2, 38, min(127, v + 10)))
        dr.append((b * 4, 0.5, 49, min(127, v + 5)))
        for k in range(8):
            dr.append((b * 4 + k * 0.5, 0.1, 42, int(v * 0.5)))
    return [(0, 30, gtr), (1, 34, bass), (9, 0, dr)]


def piano_parts(score, rng):
    notes = []
    style = rng.choice(["arp", "block"])
    for b in range(score["bars"]):
        v = _vel(score, b, 0.85, 5, rng)
        cp = chord_pitches(score, b, base=48, seventh=rng.rand() < 0.3)
        if style == "arp":
            seq = cp + [cp[0] + 12, cp[1] + 12]
            for k in range(8):
                notes.append((b * 4 + k * 0.5, 0.9, seq[k % len(seq)], v))
        else:
            for k in (0, 2):
                notes += [(b * 4 + k, 1.8, p, v) for p in cp]
        notes.append((b * 4, 3.5, root_pitch(score, b, base=36), v))
    for s, d, p, vv in score["melody"]:
        notes.append((s, d, p + 12 if p < 72 else p, int(np.clip(vv, 20, 127))))
    return [(0, 0, notes)]


MIDI_STYLES = {"blues": blues_parts, "hip-hop": hiphop_parts, "metal": metal_parts, "piano": piano_parts}
