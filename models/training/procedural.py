"""Procedural nature and texture sounds that follow a piece of music.

Each function takes the dry music (mono float32, 44.1 kHz) and a numpy RandomState and
returns the style layer (same length). The layer is driven by the music's own loudness
envelope and onsets, so a model trained on (music -> layer) pairs learns to make the
sound follow the music. Everything is synthesised here from white noise, impulses and
sinusoids: no third-party recordings, so the corpus is ours (CC0, see models/README.md).
"""
import numpy as np
from scipy.signal import butter, sosfilt, lfilter

SR = 44100
HOP = 256


def _sos(kind, f, order=2):
    if kind == "band":
        return butter(order, [f[0] / (SR / 2), min(f[1] / (SR / 2), 0.999)], btype="band", output="sos")
    return butter(order, min(f / (SR / 2), 0.999), btype=kind, output="sos")


def filt(x, kind, f, order=2):
    return sosfilt(_sos(kind, f, order), x).astype(np.float32)


def smooth(v, n):
    if n <= 1:
        return v
    k = np.ones(n) / n
    return np.convolve(np.pad(v, (n // 2, n - 1 - n // 2), mode="edge"), k, mode="valid")


def frame_power(x):
    n = len(x) // HOP
    return (x[: n * HOP].reshape(n, HOP) ** 2).mean(1) + 1e-10


def to_samples(v, length):
    t = (np.arange(length) + 0.5) / HOP - 0.5
    return np.interp(t, np.arange(len(v)), v).astype(np.float32)


def envelope(x, frames=9):
    """Local RMS (about 50 ms at frames=9), one value per sample."""
    return to_samples(np.sqrt(smooth(frame_power(x), frames)), len(x))


def onsets(x, thresh_db=4.0, min_gap_s=0.08):
    """Onset times (samples) and strengths (dB rise) from the log-energy flux."""
    lp = 10 * np.log10(frame_power(x))
    base = np.maximum.accumulate(lp)  # placeholder to keep shape
    base = smooth(lp, 15)
    rise = lp - np.concatenate([[lp[0]] * 3, lp[:-3]])
    level = lp - lp.max()
    cand = np.where((rise > thresh_db) & (level > -35))[0]
    out, last = [], -10 ** 9
    for c in cand:
        if c - last >= min_gap_s * SR / HOP:
            seg = rise[c:c + 4]
            peak = c + int(np.argmax(seg))
            out.append((peak * HOP, float(rise[peak])))
            last = peak
    del base
    return out


def pink(n, rng):
    w = rng.standard_normal(n)
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    return (lfilter(b, a, w) * 8).astype(np.float32)


def brown(n, rng):
    w = rng.standard_normal(n)
    y = lfilter([1.0], [1.0, -0.997], w)
    return (y / (np.std(y) + 1e-9)).astype(np.float32)


def impulses(rate, rng):
    """Poisson impulse train with time-varying rate (events/s, per sample array)."""
    p = np.clip(rate / SR, 0, 1)
    hit = rng.random_sample(len(rate)) < p
    return hit.astype(np.float32) * rng.exponential(1.0, len(rate)).astype(np.float32)


def decaying_sine_bank(imp, rng, f_lo, f_hi, tau_lo, tau_hi, groups=6):
    out = np.zeros_like(imp)
    idx = np.arange(int(SR * tau_hi * 5))
    for g in range(groups):
        sel = np.zeros_like(imp)
        mask = rng.random_sample(len(imp)) < 1.0 / groups
        sel[mask] = imp[mask]
        f = np.exp(rng.uniform(np.log(f_lo), np.log(f_hi)))
        tau = rng.uniform(tau_lo, tau_hi)
        kern = np.sin(2 * np.pi * f * idx / SR) * np.exp(-idx / (tau * SR))
        out += np.convolve(sel, kern)[: len(imp)]
    return out.astype(np.float32)


# ---------------------------------------------------------------- styles

def rain(dry, rng):
    env = envelope(dry, 9)
    ref = np.sqrt(np.mean(dry ** 2)) + 1e-9
    dens = np.clip(env / ref, 0, 4)
    drops = decaying_sine_bank(impulses(150 + 900 * dens ** 1.5, rng), rng, 1800, 9000, 0.002, 0.012)
    drops = filt(drops, "high", 900)
    bed = filt(filt(pink(len(dry), rng), "high", 600), "low", 12000)
    sig = drops / (np.std(drops) + 1e-9) + 0.8 * bed / (np.std(bed) + 1e-9)
    return sig * env


def thunderstorm(dry, rng):
    n = len(dry)
    env = envelope(dry, 9)
    slow = envelope(dry, 65)
    # light rain bed that swells with the music
    bed = filt(pink(n, rng), "band", (400, 8000))
    out = 0.35 * bed / (np.std(bed) + 1e-9) * slow
    rumble_src = brown(n, rng)
    crack_src = rng.standard_normal(n).astype(np.float32)
    last = -10 ** 9
    for t, s in onsets(dry, thresh_db=6.0, min_gap_s=0.3):
        if t - last < int(0.7 * SR):
            continue
        last = t
        amp = env[min(t + 512, n - 1)] * (0.8 + 0.08 * min(s, 20))
        dur = int(SR * rng.uniform(1.2, 2.5))
        seg = slice(t, min(n, t + dur))
        k = np.arange(seg.stop - seg.start)
        shape = (1 - np.exp(-k / (0.01 * SR))) * np.exp(-k / (rng.uniform(0.35, 0.8) * SR))
        crack = np.exp(-k / (0.04 * SR))
        out[seg] += amp * (2.2 * rumble_src[seg] * shape + 0.9 * crack_src[seg] * crack)
    out = filt(out, "low", 9000)
    return out


def sea_waves(dry, rng):
    n = len(dry)
    slow = envelope(dry, 129)  # ~0.75 s
    env = envelope(dry, 17)
    rise = np.clip(np.gradient(smooth(env, 4001)) * SR * 0.5 / (np.mean(env) + 1e-9), 0, 1.5)
    body = filt(brown(n, rng) + 0.4 * pink(n, rng), "low", 2500)
    foam = filt(pink(n, rng), "band", (1500, 10000))
    body /= np.std(body) + 1e-9
    foam /= np.std(foam) + 1e-9
    return (1.1 * body * slow + 0.6 * foam * (0.3 + rise) * slow).astype(np.float32)


def wind(dry, rng):
    n = len(dry)
    slow = envelope(dry, 65)
    ref = np.sqrt(np.mean(dry ** 2)) + 1e-9
    out = np.zeros(n, np.float32)
    src = rng.standard_normal(n).astype(np.float32)
    # a gust whistle whose pitch rises with the music's level, done block-wise
    block = 2048
    lvl = np.clip(slow / ref, 0, 3)
    zi = None
    for b0 in range(0, n, block):
        b1 = min(n, b0 + block)
        fc = 250 + 700 * lvl[b0]
        sos = butter(2, [fc * 0.75 / (SR / 2), fc * 1.3 / (SR / 2)], btype="band", output="sos")
        if zi is None:
            zi = np.zeros((sos.shape[0], 2))
        y, zi = sosfilt(sos, src[b0:b1], zi=zi)
        out[b0:b1] = y
    out /= np.std(out) + 1e-9
    low = filt(brown(n, rng), "low", 600)
    low /= np.std(low) + 1e-9
    return (0.9 * out + 0.7 * low) * slow


def dominant_pitch(x, t, lo=180.0, hi=1400.0, n=4096):
    """Strongest frequency (Hz) between lo and hi in the n samples after t: the note just struck."""
    seg = x[t:t + n]
    if len(seg) < n:
        seg = np.pad(seg, (0, n - len(seg)))
    spec = np.abs(np.fft.rfft(seg * np.hanning(n)))
    f = np.fft.rfftfreq(n, 1.0 / SR)
    band = (f >= lo) & (f <= hi)
    return float(f[band][np.argmax(spec[band])])


def birds(dry, rng):
    """Chirps on the melody's onsets, each an octave transposition of the note just struck into the
    2.5-5.5 kHz song range, so the bird sings along with the music (and a model can hear where to sing)."""
    n = len(dry)
    env = envelope(dry, 9)
    out = np.zeros(n, np.float32)
    for t, s in onsets(dry, thresh_db=3.0, min_gap_s=0.06):
        if rng.random_sample() < 0.25:
            continue
        reps = rng.randint(1, 4)
        base = dominant_pitch(dry, t)
        while base < 2500:
            base *= 2
        for r in range(reps):
            t0 = t + r * int(SR * rng.uniform(0.06, 0.11))
            d = int(SR * rng.uniform(0.035, 0.09))
            if t0 + d >= n:
                break
            k = np.arange(d) / SR
            sweep = base * (1 + rng.uniform(-0.2, 0.3) * k / k[-1])
            ph = 2 * np.pi * np.cumsum(sweep) / SR
            am = np.sin(np.pi * np.arange(d) / d) ** 2
            chirp = (np.sin(ph) + 0.25 * np.sin(2 * ph)) * am
            out[t0:t0 + d] += chirp * env[t] * 2.5
    hiss = filt(pink(n, rng), "band", (2000, 9000))
    out += 0.08 * hiss / (np.std(hiss) + 1e-9) * envelope(dry, 65)
    return out


def fire(dry, rng):
    n = len(dry)
    env = envelope(dry, 9)
    ref = np.sqrt(np.mean(dry ** 2)) + 1e-9
    dens = np.clip(env / ref, 0, 4)
    crack = impulses(20 + 140 * dens ** 2, rng) * rng.choice([1, -1], n)
    crack = decaying_sine_bank(crack, rng, 1500, 7000, 0.0005, 0.003, groups=4)
    crack += filt(impulses(8 + 40 * dens, rng) * 3, "high", 2000)
    roar = filt(brown(n, rng), "low", 400) + 0.25 * filt(pink(n, rng), "band", (300, 3000))
    roar /= np.std(roar) + 1e-9
    crack /= np.std(crack) + 1e-9
    return (0.8 * crack + 0.7 * roar) * env


def vinyl(dry, rng):
    n = len(dry)
    env = envelope(dry, 33)
    ref = np.sqrt(np.mean(dry ** 2)) + 1e-9
    level = ref * (0.25 + 0.75 * np.clip(env / ref, 0, 3)) ** 0.6 * np.sqrt(np.clip(env / ref, 0.02, 3)) ** 0.3
    # sparse pops over a thin crackle (v3.3: 6 and 30 a second, from 18 and 150): a steady click-hiss sounded
    # like the storm's rain and tape's hiss, with gaps between the pops it does not
    clicks = impulses(np.full(n, 6.0), rng) * rng.choice([1, -1], n) * 4
    clicks = filt(clicks, "band", (1000, 9000), 1)
    crackle = filt(impulses(np.full(n, 30.0), rng) * rng.choice([1, -1], n), "high", 2500)
    hiss = filt(rng.standard_normal(n).astype(np.float32), "band", (3000, 14000))
    rumble = filt(brown(n, rng), "low", 80)
    # the worn-record colour: a narrow-band, slightly delayed copy of the music
    tele = filt(filt(np.roll(dry, 90), "high", 400), "low", 3200, 3)
    sig = (clicks / (np.std(clicks) + 1e-9) + 0.8 * crackle / (np.std(crackle) + 1e-9)
           + 0.1 * hiss / (np.std(hiss) + 1e-9) + 0.8 * rumble)
    return sig * level + 0.35 * tele


def tape(dry, rng):
    n = len(dry)
    env = envelope(dry, 33)
    ref = np.sqrt(np.mean(dry ** 2)) + 1e-9
    # wow and flutter: time-varying delay (0.3-2 ms) so that wet = wobbling copy of the music
    t = np.arange(n) / SR
    delay = 0.0012 + 0.0007 * np.sin(2 * np.pi * 0.6 * t + rng.uniform(0, 6)) + 0.00015 * np.sin(2 * np.pi * 7 * t)
    src_t = np.clip(np.arange(n) - delay * SR, 0, n - 1)
    wob = np.interp(src_t, np.arange(n), dry).astype(np.float32)
    sat = np.tanh(2.5 * wob / (3 * ref)) * 3 * ref / 2.5
    hiss = filt(rng.standard_normal(n).astype(np.float32), "high", 2500)
    hiss /= np.std(hiss) + 1e-9
    warm = filt(sat, "low", 7000)
    return (0.9 * warm + 0.8 * hiss * ref * (0.4 + 0.6 * np.clip(env / ref, 0, 3)) ** 0.7).astype(np.float32)


PROCEDURAL = {
    "rain": rain,
    "thunderstorm": thunderstorm,
    "sea-waves": sea_waves,
    "wind": wind,
    "birds": birds,
    "fire": fire,
    "vinyl": vinyl,
    "tape": tape,
}
