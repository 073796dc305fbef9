"""v2 training targets for the texture styles: real recorded loops shaped by the music over phrases.

For a texture style s the target layer is
    layer_s(t) = A_s(t) * bank_s[(offset + t) mod len_s]   (+ thunder events for thunderstorm,
                                                              + the v1.5 crackle layer for vinyl)
where bank_s is the shipped loop (models/textures/<s>.wav) read exactly as the engine reads it, and
A_s(t) is a phrase-level gain: the music's K-weighted-like loudness smoothed over 1.5 s, relative to
the piece's gated loudness, followed at 60 % in dB (rain keeps raining through a soft bar, swells with a
loud section), fading out when the music is silent; birds are boosted where the music dips below its
phrase level (phrase ends, rests). The overall level is set relative to the music's loudness (LUFS-like:
K-weighting approximation + gating), `offset_db` per style, so the layer is clearly audible on dense
mixes. The gain curves are per frame (HOP samples) and depend only on the music.
"""
import numpy as np
from scipy.signal import butter, sosfilt

SR = 44100
HOP = 256
_HP = butter(2, 60 / (SR / 2), btype="high", output="sos")
_SH = butter(1, 1500 / (SR / 2), btype="high", output="sos")

# level re the music's loudness (dB), how much of the music's phrase dynamics (in dB) the layer follows
TEXTURE_STYLES = {
    "rain": dict(offset_db=-2.0, follow=0.6),
    "thunderstorm": dict(offset_db=-8.0, follow=0.6),  # a storm's rain sits well under its thunder
    "sea-waves": dict(offset_db=-2.0, follow=0.6),
    "wind": dict(offset_db=0.5, follow=0.6),
    "birds": dict(offset_db=3.0, follow=0.4, dip_boost_db=5.0),
    "fire": dict(offset_db=-2.0, follow=0.6),
    "vinyl": dict(offset_db=-11.0, follow=0.3),  # v3.3: the recorded hiss well under the pops
    "own": dict(offset_db=-2.0, follow=0.6),  # a user's own recording, any sound: rain's shaping
}


def kweight(x):
    """Approximation of the K weighting: 60 Hz high-pass plus a ~+4 dB shelf above 1.5 kHz."""
    y = sosfilt(_HP, x)
    return y + 0.6 * sosfilt(_SH, y)


def frame_pow(x):
    n = len(x) // HOP
    return (x[:n * HOP].reshape(n, HOP) ** 2).mean(1) + 1e-12


def smooth(v, n):
    w = np.hanning(n + 2)[1:-1]
    w /= w.sum()
    return np.convolve(np.pad(v, (n // 2, n - 1 - n // 2), mode="edge"), w, mode="valid")


def gated_loudness_db(p):
    """Mean power (dB) of the frames within 40 dB of the loudest (a crude LUFS-style gate)."""
    db = 10 * np.log10(p)
    keep = db > db.max() - 40
    return 10 * np.log10(p[keep].mean())


def kloud_db(x):
    return gated_loudness_db(frame_pow(kweight(np.asarray(x, np.float64))))


def gain_curve_db(dry, style):
    """Gain (dB re the music's loudness) per frame for one texture style."""
    cfg = TEXTURE_STYLES[style]
    p = frame_pow(kweight(np.asarray(dry, np.float64)))
    lp = gated_loudness_db(p)
    phr = 10 * np.log10(smooth(p, int(1.5 * SR / HOP)) + 1e-12) - lp
    rel = np.clip(phr, -40, 6)
    g = cfg["offset_db"] + cfg["follow"] * rel
    g = g - np.clip(-(rel + 25) * 3.0, 0, 60)  # silence in, silence out (below -25 dB re the piece)
    if cfg.get("dip_boost_db"):
        short = 10 * np.log10(smooth(p, int(0.3 * SR / HOP)) + 1e-12) - lp
        dip = np.clip((phr - short - 3.0) / 6.0, 0, 1)  # the music falls below its phrase level
        g = g + cfg["dip_boost_db"] * smooth(dip, int(0.5 * SR / HOP))
    return g.astype(np.float32), float(lp)


# v3: the event track's level re the style's bed (dB), and whether the style's events also answer accents
EVENT_STYLES = {
    "rain": dict(offset_db=-3.0), "thunderstorm": dict(offset_db=12.0, accents=True),
    "sea-waves": dict(offset_db=0.0, accents=True), "wind": dict(offset_db=0.0), "birds": dict(offset_db=2.0),
    "fire": dict(offset_db=0.0), "vinyl": dict(offset_db=-3.0), "own": dict(offset_db=0.0),
}


def room_db(dry, style):
    """Where the music makes room for an event (dB per frame): up to +6 where it falls below its phrase level
    (a rest, a phrase end), down to −9 where it pushes above it; styles that answer accents also get up to +6
    on a sharp rise (a phrase start, a hit)."""
    p = frame_pow(kweight(np.asarray(dry, np.float64)))
    phr = 10 * np.log10(smooth(p, int(1.5 * SR / HOP)) + 1e-12)
    short = 10 * np.log10(smooth(p, int(0.3 * SR / HOP)) + 1e-12)
    room = np.clip(0.8 * (phr - short), -9.0, 6.0)
    if EVENT_STYLES[style].get("accents"):
        st = 10 * np.log10(smooth(p, 9))
        lag = int(0.4 * SR / HOP)
        rise = st - np.concatenate([[st[0]] * lag, st[:-lag]])
        room = np.maximum(room, np.clip(rise - 6.0, 0.0, 6.0))
    return smooth(room, int(0.25 * SR / HOP)).astype(np.float32)
