"""The two recorded streams the network shapes, made for training as the engine makes them
(node_app/engine/texture.ts):

- the **bed**: segments drawn at random places in a style's bank of recordings, each cross-faded into the next
  with an equal-power fade, so a song of any length never hears the same stretch come round (a loop would);
- the **events**: single recorded events (a thunder clap, a breaking wave, a call, a pop) dropped one per slot of
  `every` seconds at a random place in the slot, each at a random level within 6 dB.

The engine draws its choices from a hash of (seed, channel, style, segment), training from numpy's generator:
the statistics are the same, the exact draws need not be. A user's own recording is a bank of one, whose events
are its own loudest onsets (`events_from_recording`, as the engine's `bankFromRecording`).
"""
import json
import os

import numpy as np
import soundfile as sf

SR = 44100
SEGMENT_S = 5.0   # seconds of one bed segment before its fade into the next
FADE_S = 1.0      # equal-power cross-fade between segments
EVENT_SPREAD_DB = 6.0

# mean seconds between events, per style (a style without events in its bank has none)
EVENT_EVERY = {"rain": 3.0, "thunderstorm": 9.0, "sea-waves": 8.0, "wind": 10.0, "birds": 3.5, "fire": 1.0,
               "vinyl": 0.8}
OWN_EVENT_EVERY = 4.0


# seconds per bed segment where a style wants longer ones than SEGMENT_S: surf keeps whole swells
SEGMENT_BY_STYLE = {"sea-waves": 8.0}


def segment_lengths(clips, segment_s=SEGMENT_S):
    """(segment, fade) in samples: segments fit twice into the shortest clip (three times for a bank of one); a
    fade takes at most a fifth of a segment."""
    shortest = min(len(c) for c in clips)
    segment = min(int(round(segment_s * SR)), shortest // (2 if len(clips) > 1 else 3))
    fade = min(int(FADE_S * SR), segment // 5)
    return segment, fade


def read_pcm(path):
    """A bank file as the engine holds it: int16 samples / 32768."""
    pcm, sr = sf.read(path, dtype="int16")
    assert sr == SR and pcm.ndim == 1, path
    return pcm.astype(np.float32) / 32768.0


def load_banks(root):
    """{style: {"bed": [clips], "events": [clips]}} from models/banks/index.json."""
    with open(os.path.join(root, "index.json")) as f:
        index = json.load(f)
    cache = {}

    def clips(files):
        for name in files:
            if name not in cache:
                cache[name] = read_pcm(os.path.join(root, name))
        return [cache[name] for name in files]

    return {sid: {"bed": clips(spec.get("bed", [])), "events": clips(spec.get("events", []))}
            for sid, spec in index["styles"].items()}


def bed_stream(clips, n, rng, segment_s=SEGMENT_S):
    """n samples of bed: segments at random places in random clips, equal-power cross-faded."""
    segment, fade = segment_lengths(clips, segment_s)
    span = segment + fade
    usable = np.array([len(c) - span + 1 for c in clips], np.float64)
    phase = rng.randint(segment)  # where the crop falls in the segment grid
    out = np.zeros(n + phase + span, np.float32)
    t = np.linspace(0, np.pi / 2, fade, endpoint=False, dtype=np.float32)
    fade_in, fade_out = np.sin(t), np.cos(t)
    for start in range(0, n + phase, segment):
        c = rng.choice(len(clips), p=usable / usable.sum())
        o = rng.randint(int(usable[c]))
        piece = clips[c][o:o + span].copy()
        if start > 0:
            piece[:fade] *= fade_in
        piece[segment:] *= fade_out
        out[start:start + span] += piece
    return out[phase:phase + n]


def event_stream(clips, n, every_s, rng):
    """n samples of events: one per slot of every_s seconds, at a random place in it (events may run on)."""
    out = np.zeros(n, np.float32)
    if not clips:
        return out
    every = int(every_s * SR)
    longest = max(len(c) for c in clips)
    for slot_start in range(-longest - every, n, every):
        at = slot_start + rng.randint(every)
        clip = clips[rng.randint(len(clips))] * np.float32(10 ** (-EVENT_SPREAD_DB * rng.rand() / 20))
        a, b = max(at, 0), min(at + len(clip), n)
        if b > a:
            out[a:b] += clip[a - at:b - at]
    return out


def events_from_recording(pcm, max_events=8, frame=441, min_gap_s=0.5, rise_db=9.0, onset_db=10.0, length_s=0.6):
    """A recording's own events: its loudest onsets (≥ rise_db over the median level and ≥ onset_db over the
    median of the 80 ms ending 20 ms before them: a clap or a pop, not a gust's crest), at least min_gap_s apart,
    each length_s long from 20 ms before its peak, faded."""
    n = len(pcm) // frame
    if n < 4:
        return []
    level = 10 * np.log10((pcm[:n * frame].reshape(n, frame).astype(np.float64) ** 2).mean(1) + 1e-10)
    floor = np.sort(level)[n // 2]
    order = np.argsort(-level, kind="stable")
    gap = int(min_gap_s * SR / frame)
    picked = []
    def onset(i):
        return level[i] - np.sort(level[max(0, i - 10):i - 2])[(min(i, 10) - 2) // 2] if i >= 3 else 0.0

    for i in order:
        if level[i] < floor + rise_db or len(picked) == max_events:
            break
        if onset(i) >= onset_db and all(abs(int(i) - j) >= gap for j in picked):
            picked.append(int(i))
    length = int(length_s * SR)
    events = []
    for i in sorted(picked):
        a = max(0, i * frame - int(0.02 * SR))
        clip = pcm[a:a + length].astype(np.float32).copy()
        if len(clip) < 64:
            continue
        f = min(len(clip) // 2, int(0.2 * SR))
        clip[-f:] *= np.linspace(1, 0, f, dtype=np.float32)
        clip[:32] *= np.linspace(0, 1, 32, dtype=np.float32)
        events.append(clip)
    return events
