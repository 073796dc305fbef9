"""The independent judge: a sound-class classifier trained ONLY on real recordings (eval_data.CLASS_SOURCES),
never on synthetic layers or on model outputs, cross-validated by file and by package.

Features of a 3 s segment, all level-independent (the segment's mean log energy is subtracted):
log-mel band means, spreads and frame-to-frame change (48 bands, 40 Hz-16 kHz), the modulation spectrum of
the log-energy envelope in 4 frequency regions over 0.5-32 Hz (swell, gusts, drops, beats), and envelope
percentiles. Classifier: multinomial logistic regression (numpy/torch, L2). Training segments see realistic
conditions, all built from real recordings: random crops, short clips repeated at random gaps, random
spectral tilt, and half of them mixed with a quieter other-music residue (-30...-12 dB) like the residue an
output - input difference can carry.
"""
import numpy as np
import torch
from scipy.signal import butter, lfilter

import eval_data as D

SR = D.SR
FEATURES_VERSION = 2  # bump when features() or make_corpus() change: the cached corpora are keyed on it
SEG = 3.0
N_FFT, HOP, N_MEL = 2048, 512, 48
STEADY = {"rain", "surf", "wind", "hiss", "crackle"}


def mel_fb(sr=SR, n_fft=N_FFT, n_mel=N_MEL, fmin=40.0, fmax=16000.0):
    hz2mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    mel2hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    pts = mel2hz(np.linspace(hz2mel(fmin), hz2mel(fmax), n_mel + 2))
    bins = np.fft.rfftfreq(n_fft, 1 / sr)
    fb = np.zeros((n_mel, len(bins)))
    for i in range(n_mel):
        lo, c, hi = pts[i], pts[i + 1], pts[i + 2]
        fb[i] = np.clip(np.minimum((bins - lo) / (c - lo), (hi - bins) / (hi - c)), 0, None)
    return fb / (fb.sum(1, keepdims=True) + 1e-12)


FB = mel_fb()
HP2K = butter(2, 2000, "highpass", fs=SR)
BP300 = butter(2, [150, 1500], "bandpass", fs=SR)
WIN = np.hanning(N_FFT).astype(np.float32)


def power_spec(x):
    if len(x) < N_FFT:
        x = np.pad(x, (0, N_FFT - len(x)))
    n = 1 + (len(x) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    return np.abs(np.fft.rfft(x[idx] * WIN, axis=1)) ** 2


def logmel(x):
    return 10 * np.log10(power_spec(x) @ FB.T + 1e-10)  # [frames, mel]


REGIONS = [(0, 8), (8, 20), (20, 34), (34, N_MEL)]  # mel-band groups: <~300 Hz, ~1.1 kHz, ~4 kHz, above
MOD_EDGES = [0.5, 1, 2, 4, 8, 16, 32]


def features(x):
    m = logmel(x)
    lin = 10 ** (m / 10)
    total = 10 * np.log10(lin.mean() + 1e-10)
    m = m - total  # level-independent
    m = np.maximum(m, m.max() - 80)
    f = [m.mean(0), m.std(0), np.abs(np.diff(m, axis=0)).mean(0)]
    fr = SR / HOP
    freqs = np.fft.rfftfreq(len(m), 1 / fr)
    for lo, hi in REGIONS:
        env = 10 * np.log10(lin[:, lo:hi].mean(1) + 1e-10)
        env = env - env.mean()
        spec = np.abs(np.fft.rfft(env * np.hanning(len(env)))) ** 2
        tot = spec[freqs >= MOD_EDGES[0]].sum() + 1e-9
        f.append(np.array([10 * np.log10(spec[(freqs >= a) & (freqs < b)].sum() / tot + 1e-6)
                           for a, b in zip(MOD_EDGES[:-1], MOD_EDGES[1:])]))
        f.append(np.array([env.std()]))
    env = 10 * np.log10(lin.mean(1) + 1e-10)
    f.append(np.percentile(env - env.max(), [10, 50, 90]))
    # impulsiveness (crackle, fire, drops) at 3 ms resolution in two regions, and spectral flatness (hiss)
    for b, a in (HP2K, BP300):
        e = lfilter(b, a, x)[: len(x) // 128 * 128].reshape(-1, 128)
        le = 10 * np.log10((e ** 2).mean(1) + 1e-12)
        p50 = np.percentile(le, 50)
        f.append(np.array([np.percentile(le, 99) - p50, np.percentile(le, 90) - p50, p50 - np.percentile(le, 10),
                           (le > p50 + 10).mean()]))
    pw = lin[:, 4:]
    flat = np.exp(np.log(pw + 1e-12).mean(1)) / (pw.mean(1) + 1e-12)
    f.append(np.array([flat.mean(), np.percentile(flat, 90)]))
    return np.concatenate(f).astype(np.float32)


def segments(x, seg=SEG, hop=1.5):
    n, h = int(seg * SR), int(hop * SR)
    if len(x) < n:
        return [np.pad(x, (0, n - len(x)))]
    return [x[s:s + n] for s in range(0, len(x) - n + 1, h)]


# ------------------------------------------------------------------ training corpus
def _canvas(clip, cls, rng, n):
    """A 3 s segment from a real recording: a random crop, or for a short clip copies of it at random gaps
    (steady textures back to back with short cross-fades)."""
    if len(clip) >= n:
        s = rng.integers(0, len(clip) - n + 1)
        return clip[s:s + n].copy()
    out = np.zeros(n + len(clip), np.float32)
    t = -rng.integers(0, len(clip))
    fade = min(len(clip) // 4, int(0.05 * SR))
    ramp = np.ones(len(clip), np.float32)
    if fade > 0:
        ramp[:fade] = np.linspace(0, 1, fade)
        ramp[-fade:] = np.linspace(1, 0, fade)
    while t < n:
        a = max(t, 0)
        piece = (clip * ramp)[a - t:]
        out[a:a + len(piece)] += piece * (1.0 if cls in STEADY else rng.uniform(0.4, 1.0))
        t += len(clip) - (fade if cls in STEADY else -int(rng.uniform(0.0, 0.8) * SR))
    return out[:n]


def _tilt(x, rng):
    if rng.random() < 0.35:
        a = rng.uniform(0.2, 0.9)  # one-pole low-pass or its high-pass mirror
        y = lfilter([1 - a], [1, -a], x).astype(np.float32)
        if rng.random() < 0.5:
            y = (x - y).astype(np.float32)
        return y
    return x


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def make_corpus(sources, per_file=24, seed=0, max_per_class=260):
    """Segments + labels + file ids + package ids. Music residue is drawn from the 'music' sources of the
    same corpus (in cross-validation only from training files, see cross_validate)."""
    rng = np.random.default_rng(seed)
    n = int(SEG * SR)
    clips = [(c, p, path, D.decode(p, path, s, d)) for c, p, path, s, d in sources]
    music = [cl for c, _, _, cl in clips if c == "music"]
    count = {c: sum(1 for cc, *_ in clips if cc == c) for c in D.CLASSES}
    X, y, fid, pid = [], [], [], []
    for i, (c, p, path, clip) in enumerate(clips):
        k = max(6, min(per_file * 3, max_per_class // max(count[c], 1)))
        for _ in range(k):
            seg = _canvas(clip, c, rng, n)
            seg = _tilt(seg, rng)
            if c not in ("music", "metal") and music and rng.random() < 0.5:
                res = _canvas(music[rng.integers(len(music))], "music", rng, n)
                seg = seg + res * (rms(seg) / (rms(res) + 1e-9)) * 10 ** (rng.uniform(-30, -12) / 20)
            seg = seg + rng.standard_normal(n).astype(np.float32) * rms(seg) * 1e-3
            X.append(features(seg))
            y.append(D.CLASSES.index(c))
            fid.append(i)
            pid.append(p)
    return np.array(X), np.array(y), np.array(fid), np.array(pid)


# ------------------------------------------------------------------ model
class Classifier:
    def __init__(self, l2=3e-3, epochs=400, seed=0):
        self.l2, self.epochs, self.seed = l2, epochs, seed

    def fit(self, X, y):
        torch.manual_seed(self.seed)
        self.mu, self.sd = X.mean(0), X.std(0) + 1e-6
        Xt = torch.from_numpy((X - self.mu) / self.sd).float()
        yt = torch.from_numpy(y).long()
        C = len(D.CLASSES)
        counts = np.bincount(y, minlength=C).astype(np.float32)
        w = torch.from_numpy(np.where(counts > 0, counts.sum() / (C * np.maximum(counts, 1)), 0)).float()
        self.lin = torch.nn.Linear(X.shape[1], C)
        opt = torch.optim.LBFGS(self.lin.parameters(), lr=0.5, max_iter=self.epochs, history_size=20,
                                line_search_fn="strong_wolfe")
        present = torch.from_numpy(counts > 0)

        def closure():
            opt.zero_grad()
            logits = self.lin(Xt).masked_fill(~present, -1e9)
            loss = torch.nn.functional.cross_entropy(logits, yt, weight=w) + self.l2 * (self.lin.weight ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        self.present = present
        return self

    def proba(self, X):
        with torch.no_grad():
            z = self.lin(torch.from_numpy((X - self.mu) / self.sd).float()).masked_fill(~self.present, -1e9)
            return torch.softmax(z, 1).numpy()

    def predict(self, X):
        return self.proba(X).argmax(1)


def _pseudo_files(sources):
    """A class with a single recording is split into its two halves, so it can be cross-validated at all
    (a weaker, within-file ceiling: reported as such)."""
    out, single = [], set()
    for c in D.CLASSES:
        mine = [s for s in sources if s[0] == c]
        if len(mine) == 1:
            cl, p, path, s, d = mine[0]
            L = len(D.decode(p, path, s, d)) / SR
            out += [(cl, p, path, s, L / 2), (cl, p, path, s + L / 2, L / 2)]
            single.add(c)
        else:
            out += mine
    return out, single


def cached_corpus(sources, seed):
    import hashlib, os, pickle
    key = hashlib.sha1(pickle.dumps((sources, seed, FEATURES_VERSION))).hexdigest()[:12]
    path = os.path.join(D.BUILD, f"eval-corpus-{key}.npz")
    if os.path.exists(path):
        z = np.load(path)
        return z["X"], z["y"], z["fid"], z["pid"]
    X, y, fid, pid = make_corpus(sources, seed=seed)
    np.savez(path, X=X, y=y, fid=fid, pid=pid)
    return X, y, fid, pid


def cross_validate(sources=None, folds=5, seed=1, **kw):
    """Per-class accuracy with whole files held out, and with whole packages held out (round-robin folds
    within each class, so every class keeps at least one training file/package where it has two)."""
    sources = sources or D.CLASS_SOURCES
    srcs, single = _pseudo_files(sources)
    X, y, fid, pid = cached_corpus(srcs, seed)
    res = {}
    for mode in ("file", "package"):
        fold = np.zeros(len(y), int)
        for c in range(len(D.CLASSES)):
            keys = sorted(set(fid[y == c]) if mode == "file" else set(pid[y == c]))
            for j, k in enumerate(keys):
                sel = (y == c) & ((fid == k) if mode == "file" else (pid == k))
                fold[sel] = j % folds
        correct = np.zeros(len(D.CLASSES))
        total = np.zeros(len(D.CLASSES))
        conf = np.zeros((len(D.CLASSES), len(D.CLASSES)), int)
        for f in range(folds):
            te = fold == f
            tr = ~te
            if te.sum() == 0:
                continue
            clf = Classifier(**kw).fit(X[tr], y[tr])
            pr = clf.predict(X[te])
            for t, p in zip(y[te], pr):
                # a class whose only file/package is in this fold cannot be scored
                if not (y[tr] == t).any():
                    continue
                total[t] += 1
                correct[t] += t == p
                conf[t, p] += 1
        npk = {c: len(set(pid[y == i])) for i, c in enumerate(D.CLASSES)}
        nfi = {c: len({s[2] for s in sources if s[0] == c}) for c in D.CLASSES}
        for i, c in enumerate(D.CLASSES):
            ok = total[i] > 0 and not (mode == "package" and npk[c] < 2)
            res.setdefault(c, {})[mode] = float(correct[i] / total[i]) if ok else None
            res[c]["packages"] = npk[c]
            res[c]["files"] = nfi[c]
            res[c]["within_file"] = c in single
        res.setdefault("_conf", {})[mode] = conf
    return res


def train_final(seed=2):
    """Trained on every reference: the cross-validation corpus plus a second, independently drawn one."""
    X, y, _, _ = cached_corpus(D.CLASS_SOURCES, seed)
    X1, y1, _, _ = cached_corpus(_pseudo_files(D.CLASS_SOURCES)[0], 1)
    return Classifier().fit(np.concatenate([X, X1]), np.concatenate([y, y1]))


if __name__ == "__main__":
    import time
    torch.set_num_threads(1)
    D.fetch()
    t = time.time()
    r = cross_validate()
    for c in D.CLASSES:
        print(f"{c:8s} files {r[c]['files']:2d} pkgs {r[c]['packages']}  by file {r[c]['file']}  by package {r[c]['package']}"
              + ("  (single recording: halves)" if r[c]["within_file"] else ""))
    print("confusion by package (rows true):", D.CLASSES)
    print(r["_conf"]["package"])
    print(f"{time.time() - t:.0f} s")
