"""Evaluate the shipped model the way the app uses it and print the table for models/README.md.

* Held-out input: music composed with other keys, tempos and instruments than training, rendered
  with a different soundfont (MuseScore General), plus a speech clip made with espeak-ng.
* Runtime: models/enricher.onnx through onnxruntime-node (the app's runtime) when node_modules has
  it; otherwise the PyTorch checkpoint (say which in the output). Torch/ONNX parity is checked when both exist.
* Engine mixing as in the app: windows of manifest.window with manifest.overlap, sin^2/cos^2 cross-fades,
  an independent Gaussian noise stream per window, out = dry + 0.5 * wet, peak limiter at -1 dBFS.
* Style classifier: an MLP on log-mel statistics trained on a separately seeded style corpus (style
  layers alone, under other training music, under their own music and under espeak-ng speech in other
  voices and words than the held-out clip), never on model outputs.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf
import torch
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from enricher_net import EnricherNet, mel_filterbank  # noqa: E402

MODELS = os.path.dirname(HERE)
REPO = os.path.dirname(MODELS)
BUILD = os.path.join(HERE, "build")
SR = 44100
AMOUNT = 0.5
LIMIT = 10 ** (-1 / 20)
SPEECH = ("The noise enricher takes a song and weaves a new sound into it. "
          "Rain, thunder, a blues band or an old record: pick a style, choose how much, and listen again.")
# the classifier's own speech carriers: other voices and words than the held-out clip
CLF_SPEECH = [
    ("en-us", 140, "Good morning. The train to the coast leaves at nine, so please be on time and bring a coat."),
    ("en-us+f3", 165, "I recorded this on my phone in the kitchen, and the kettle was boiling the whole time."),
    ("en-gb-scotland", 150, "Over the hills the road winds down to a small harbour where the boats come in at dusk."),
    ("en-029+m4", 130, "Count with me now: one, two, three, four, and again from the start, a little slower."),
    ("en-gb-x-rp+f2", 175, "Numbers, names and places: Paris, seventeen, Maria, the blue house by the river."),
    ("en-us+m7", 185, "Welcome back to the show. Tonight we talk about gardens, old radios and the best soup in town."),
    ("en-gb-x-gbclan+f4", 120, "Slowly now. Breathe in, hold it for a moment, and let it go. Once more, a little deeper."),
    ("en-gb-x-gbcwmd", 160, "If the weather holds we will walk along the cliffs, stop for lunch, and be home before dark."),
]


# ------------------------------------------------------------------ inputs
def build_if_missing(path, args):
    if not os.path.exists(path):
        subprocess.run([sys.executable, os.path.join(HERE, "build_dataset.py"), "--out", path] + args, check=True)
    return np.load(path)


def speech_clip(text=SPEECH, voice="en", speed=155):
    with tempfile.TemporaryDirectory() as d:
        wav = os.path.join(d, "s.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", wav, text], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        x, sr = sf.read(wav, dtype="float32")
    if x.ndim > 1:
        x = x.mean(1)
    g = np.gcd(sr, SR)
    x = resample_poly(x, SR // g, sr // g).astype(np.float32)
    return x * (10 ** (-20 / 20) / (np.sqrt(np.mean(x ** 2)) + 1e-9))


# ------------------------------------------------------------------ engine
def limiter(x):
    req = np.minimum(1.0, LIMIT / (np.abs(x) + 1e-12))
    # ~5 ms look-ahead like the engine's limiter: min over the window, then a same-width smoothing
    g = uniform_filter1d(minimum_filter1d(req, 221, mode="nearest"), 221, mode="nearest")
    return np.clip(x * g, -LIMIT, LIMIT)


def plan_windows(n, w, o):
    hop = w - o
    starts = [0]
    while starts[-1] + w < n:
        starts.append(starts[-1] + hop)
    return starts


def overlap_add(wets, starts, n, w, o):
    total = starts[-1] + w
    acc = np.zeros(total)
    wsum = np.zeros(total)
    for i, (s, y) in enumerate(zip(starts, wets)):
        wt = np.ones(w)
        rise = np.sin(np.pi / 2 * (np.arange(o) + 0.5) / o) ** 2  # the engine's sin^2/cos^2 fades
        if i > 0:
            wt[:o] = rise
        if i < len(starts) - 1:
            wt[-o:] = 1 - rise
        acc[s:s + w] += wt * y
        wsum[s:s + w] += wt
    return (acc / np.maximum(wsum, 1e-9))[:n]


# ------------------------------------------------------------------ runtimes
def run_node(onnx_path, audio, style, noise, batch=1):
    with tempfile.TemporaryDirectory() as d:
        audio.astype(np.float32).tofile(os.path.join(d, "audio.f32"))
        style.astype(np.float32).tofile(os.path.join(d, "style.f32"))
        noise.astype(np.float32).tofile(os.path.join(d, "noise.f32"))
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump({"count": audio.shape[0], "window": audio.shape[1], "styles": style.shape[1], "batch": batch}, f)
        subprocess.run(["node", os.path.join(HERE, "run_onnx.cjs"), onnx_path, d], check=True, cwd=REPO)
        wet = np.fromfile(os.path.join(d, "wet.f32"), dtype=np.float32).reshape(audio.shape)
        timing = json.load(open(os.path.join(d, "timing.json")))
    return wet, timing


def run_torch(model, audio, style, noise, batch=8):
    out = []
    with torch.no_grad():
        for i in range(0, len(audio), batch):
            out.append(model(torch.from_numpy(audio[i:i + batch]), torch.from_numpy(style[i:i + batch]),
                             torch.from_numpy(noise[i:i + batch])).numpy())
    return np.concatenate(out)


def node_available():
    return os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")) and \
        subprocess.run(["node", "--version"], capture_output=True).returncode == 0


# ------------------------------------------------------------------ features and metrics
MEL = mel_filterbank(SR, 2048, 64)


def logmel_db(x, hop=512):
    n = 1 + (len(x) - 2048) // hop
    if n < 1:
        x = np.pad(x, (0, 2048 - len(x)))
        n = 1
    idx = np.arange(2048)[None, :] + hop * np.arange(n)[:, None]
    frames = x[idx] * np.hanning(2048)[None, :]
    p = np.abs(np.fft.rfft(frames, axis=1)) ** 2 / 2048
    return 10 * np.log10(p @ MEL.T + 1e-8)  # [frames, 64]


def clf_features(x):
    """Per-band mean, spread and frame-to-frame change of the log-mel over the frames that hold sound:
    digital silence (pauses in a synthetic voice, gaps between drum hits) says nothing about the style."""
    m = logmel_db(x)
    d = np.abs(np.diff(m, axis=0))
    audible = 10 * np.log10(np.mean(10 ** (m / 10), axis=1)) > -70
    pairs = audible[1:] & audible[:-1]
    if pairs.any():
        m, d = m[audible], d[pairs]
    return np.concatenate([m.mean(0), m.std(0), d.mean(0), [m.mean(), m.std()]]).astype(np.float32)


def segments(x, seg=3 * SR):
    return [x[i:i + seg] for i in range(0, len(x) - seg + 1, seg)] or [x]


def loudness_db(x, frame=int(0.05 * SR)):
    n = len(x) // frame
    return 10 * np.log10((x[: n * frame].reshape(n, frame) ** 2).mean(1) + 1e-10)


def border_flux_excess(x, y, starts, o, hop=512):
    """How much more spectral flux the output has at window borders than elsewhere, relative to the
    same ratio for the input (1.0 = borders look like everywhere else; a seam would push it up)."""
    def ratio(sig):
        m = logmel_db(sig, hop)
        flux = np.maximum(np.diff(m, axis=0), 0).sum(1)
        idx = []
        for s in starts[1:]:
            for b in range(s, s + o + 1, o // 4):
                k = int(round(b / hop))
                idx.extend(range(max(0, k - 1), min(len(flux), k + 2)))
        if not idx:
            return 1.0
        return float(flux[idx].mean() / (flux.mean() + 1e-9))
    return ratio(y) / ratio(x) if len(starts) > 1 else 1.0


# ------------------------------------------------------------------ classifier
def train_classifier(corpus, train_music, seed=5):
    rng = np.random.RandomState(seed)
    torch.manual_seed(seed)
    dry, wet = corpus["dry"].astype(np.float32), corpus["wet"].astype(np.float32)
    P, S, L = wet.shape
    X, Y = [], []
    tdry = train_music.astype(np.float32)
    speech = np.concatenate([speech_clip(t, v, r) for v, r, t in CLF_SPEECH])

    def under(carrier, w, a, g):  # the layer at amount a under a carrier brought to the layer's level
        return g * (carrier * np.sqrt(np.mean(w ** 2) / (np.mean(carrier ** 2) + 1e-12)) + a * w)

    for p in range(P):
        for s in range(S):
            for seg_i, w in enumerate(segments(wet[p, s])):
                X.append(clf_features(w))
                o = seg_i * 3 * SR
                a = rng.uniform(0.25, 0.9)
                g = 10 ** (rng.uniform(-6, 6) / 20)
                # the same style layer heard under music it was not made for, under speech, and
                # under the music it was made for, at a random amount
                X.append(clf_features(under(tdry[rng.randint(len(tdry)), o:o + len(w)], w, a, g)))
                so = rng.randint(len(speech) - len(w))
                X.append(clf_features(under(speech[so:so + len(w)], w, a, g)))
                X.append(clf_features(g * (dry[p, o:o + len(w)] + a * w)))
                Y.extend([s] * 4)
    X = np.stack(X)
    Y = np.array(Y)
    mu, sd = X.mean(0), X.std(0) + 1e-6
    Xt = torch.from_numpy((X - mu) / sd)
    Yt = torch.from_numpy(Y)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 256), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                              torch.nn.Linear(256, S))
    opt = torch.optim.Adam(net.parameters(), 2e-3, weight_decay=1e-4)
    for ep in range(400):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(Xt), Yt)
        loss.backward()
        opt.step()
    net.eval()
    acc = (net(Xt).argmax(1) == Yt).float().mean().item()
    return lambda feats: net(torch.from_numpy((np.stack(feats) - mu) / sd)).argmax(1).numpy(), acc, len(Y)


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime", choices=["auto", "node", "torch"], default="auto")
    ap.add_argument("--heldout-pieces", type=int, default=8)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--json", default=os.path.join(BUILD, "eval.json"))
    ap.add_argument("--ckpt", default=os.path.join(BUILD, "enricher.pt"), help="for the torch/ONNX parity check")
    a = ap.parse_args()
    torch.set_num_threads(2)
    man = json.load(open(os.path.join(MODELS, "manifest.json")))
    W, O = man["model"]["window"], man["model"]["overlap"]
    styles = sorted(man["styles"], key=lambda s: s["index"])
    ids = [s["id"] for s in styles]
    S = len(ids)
    onnx_path = os.path.join(MODELS, man["model"]["file"])
    ckpt = a.ckpt
    runtime = a.runtime
    if runtime == "auto":
        runtime = "node" if node_available() else "torch"
    model = None
    if os.path.exists(ckpt):
        st = torch.load(ckpt)
        if list(st["styles"]) == ids:
            model = EnricherNet(S)
            model.load_state_dict(st["model"])
            model.eval()
    if runtime == "torch" and model is None:
        sys.exit("no ONNX runtime (node + onnxruntime-node) and no matching checkpoint in build/: run train.sh first")

    t0 = time.time()
    held = build_if_missing(os.path.join(BUILD, f"heldout-{a.heldout_pieces}.npz"),
                            ["--heldout", "--pieces", str(a.heldout_pieces), "--seed", "99"])
    assert [str(s) for s in held["styles"]] == ids, "held-out corpus styles differ from the manifest"
    clips = [(f"heldout-{i} ({m})", held["dry"][i].astype(np.float32)) for i, m in enumerate(held["meta"])]
    clips.append(("speech (espeak-ng)", speech_clip()))
    corpus = build_if_missing(os.path.join(BUILD, "clfcorpus.npz"), ["--pieces", "32", "--seed", "31"])
    assert [str(s) for s in corpus["styles"]] == ids, "classifier corpus styles differ from the manifest"
    train_music = build_if_missing(os.path.join(BUILD, "clfmusic.npz"),
                                   ["--styles", "none", "--pieces", "12", "--seed", "77"])["dry"]
    classify, clf_train_acc, clf_n = train_classifier(corpus, train_music)
    print(f"classifier: {clf_n} training examples, train accuracy {clf_train_acc:.3f}", flush=True)
    # its ceiling: the true style layers of the held-out music (what the model imitates), mixed like the engine
    hits = segs = 0
    for x, layers in zip(held["dry"].astype(np.float32), held["wet"].astype(np.float32)):
        for si, t in enumerate(layers):
            pred = classify([clf_features(s) for s in segments(limiter(x + AMOUNT * t))])
            hits += int((pred == si).sum())
            segs += len(pred)
    ceiling = hits / segs
    print(f"classifier on the true style layers of the held-out music: {ceiling * 100:.0f} % top-1", flush=True)

    # every (clip, style) through the engine's windowing, one batch for the runtime
    jobs, A, SV, NZ = [], [], [], []
    eye = np.eye(S, dtype=np.float32)
    for ci, (name, x) in enumerate(clips):
        starts = plan_windows(len(x), W, O)
        xp = np.pad(x, (0, starts[-1] + W - len(x)))
        # like the engine: every window has its own noise stream derived from (seed, window)
        noise = [np.random.RandomState([a.seed, ci, k]).standard_normal(W).astype(np.float32)
                 for k in range(len(starts))]
        for si in range(S):
            jobs.append((ci, si, starts, len(A)))
            for k, s in enumerate(starts):
                A.append(xp[s:s + W])
                NZ.append(noise[k])
                SV.append(eye[si])
    mixes = [(a_, b_) for a_, b_ in (("rain", "blues"), ("thunderstorm", "metal"), ("wind", "piano"),
                                     ("vinyl", "hip-hop")) if a_ in ids and b_ in ids]
    mix_jobs = []
    for ci, (name, x) in enumerate(clips):
        starts = plan_windows(len(x), W, O)
        xp = np.pad(x, (0, starts[-1] + W - len(x)))
        noise = [np.random.RandomState([a.seed, ci, k]).standard_normal(W).astype(np.float32)
                 for k in range(len(starts))]
        for a_, b_ in mixes:
            mix_jobs.append((ci, (a_, b_), starts, len(A)))
            for k, s in enumerate(starts):
                A.append(xp[s:s + W])
                NZ.append(noise[k])
                SV.append(0.5 * eye[ids.index(a_)] + 0.5 * eye[ids.index(b_)])
    A, SV, NZ = np.stack(A), np.stack(SV), np.stack(NZ)
    timing = None
    if runtime == "node":
        wets, timing = run_node(onnx_path, A, SV, NZ)
    else:
        wets = run_torch(model, A, SV, NZ)
    parity = None
    if model is not None and node_available():
        k = min(24, len(A))
        tw = run_torch(model, A[:k], SV[:k], NZ[:k])
        nw = wets[:k] if runtime == "node" else run_node(onnx_path, A[:k], SV[:k], NZ[:k])[0]
        parity = float(np.abs(tw - nw).max() / (np.abs(tw).max() + 1e-12))
    # single-window speed with B=1 on one thread
    if timing is None and node_available():
        _, timing = run_node(onnx_path, A[:16], SV[:16], NZ[:16])
    if timing is None:
        torch.set_num_threads(1)
        t1 = time.time()
        run_torch(model, A[:16], SV[:16], NZ[:16], batch=1)
        timing = {"runtime": "torch", "realTimeFraction": (time.time() - t1) / (16 * W / SR)}
        torch.set_num_threads(2)

    outs = {}
    rows = {sid: dict(correct=0, segs=0, corr=[], dist=[], nan=0, full=0, samples=0, dur_ok=True, flux=[])
            for sid in ids}
    confusion = np.zeros((S, S), int)
    for ci, si, starts, first in jobs:
        x = clips[ci][1]
        wet = overlap_add(wets[first:first + len(starts)], starts, len(x), W, O)
        y = limiter(x + AMOUNT * wet)
        outs[(ci, si)] = y
        r = rows[ids[si]]
        r["nan"] += int(np.isnan(y).sum())
        r["full"] += int((np.abs(y) >= 0.999).sum())
        r["samples"] += len(y)
        r["dur_ok"] &= len(y) == len(x)
        r["corr"].append(float(np.corrcoef(loudness_db(x), loudness_db(y))[0, 1]))
        r["dist"].append(float(np.abs(logmel_db(x) - logmel_db(y)).mean()))
        r["flux"].append(border_flux_excess(x, y, starts, O))
        segs = segments(y)
        pred = classify([clf_features(s) for s in segs])
        r["correct"] += int((pred == si).sum())
        np.add.at(confusion[si], pred, 1)
        r["segs"] += len(segs)
    wet_of = {}
    for ci, si, starts, first in jobs:
        wet_of[(ci, ids[si])] = overlap_add(wets[first:first + len(starts)], starts, len(clips[ci][1]), W, O)
    mix_rows = {}
    for ci, ab, starts, first in mix_jobs:
        x = clips[ci][1]
        wm = overlap_add(wets[first:first + len(starts)], starts, len(x), W, O)
        ym = logmel_db(limiter(x + AMOUNT * wm))
        yavg = logmel_db(limiter(x + AMOUNT * 0.5 * (wet_of[(ci, ab[0])] + wet_of[(ci, ab[1])])))
        r = mix_rows.setdefault(ab, dict(avg=[], a=[], b=[]))
        r["avg"].append(float(np.abs(ym - yavg).mean()))
        r["a"].append(float(np.abs(ym - logmel_db(outs[(ci, ids.index(ab[0]))])).mean()))
        r["b"].append(float(np.abs(ym - logmel_db(outs[(ci, ids.index(ab[1]))])).mean()))
    pair = {sid: [] for sid in ids}
    for ci in range(len(clips)):
        mels = [logmel_db(outs[(ci, si)]) for si in range(S)]
        for i in range(S):
            for j in range(S):
                if i != j:
                    pair[ids[i]].append(float(np.abs(mels[i] - mels[j]).mean()))

    print()
    print(f"runtime: {'onnxruntime-node (models/' + man['model']['file'] + ')' if runtime == 'node' else 'PyTorch checkpoint'}"
          f"; torch/ONNX max relative difference: {parity if parity is not None else 'not checked'}")
    print(f"held-out: {len(clips) - 1} music pieces + 1 speech clip, {sum(len(c[1]) for c in clips) / SR:.0f} s; "
          f"amount {AMOUNT}, window {W}, overlap {O}, limiter -1 dBFS")
    hdr = ("| style | kind | classifier top-1 | loudness corr (mean / min) | log-mel dist in→out dB | "
           "min dist to another style dB | NaN | full-scale % | duration | border flux excess (max) |")
    print(hdr)
    print("|" + "---|" * 10)
    summary = {}
    for s in styles:
        r = rows[s["id"]]
        acc = r["correct"] / r["segs"]
        c = np.array(r["corr"])
        dmin = float(np.min([np.mean(pair[s["id"]][k::S - 1]) for k in range(S - 1)])) if S > 1 else 0.0
        summary[s["id"]] = dict(accuracy=acc, corr_mean=float(c.mean()), corr_min=float(c.min()),
                                dist=float(np.mean(r["dist"])), min_pair=dmin, nan=r["nan"],
                                full_pct=100 * r["full"] / r["samples"], duration_ok=bool(r["dur_ok"]),
                                flux=float(np.max(r["flux"])))
        m = summary[s["id"]]
        print(f"| {s['id']} | {s['kind']} | {acc * 100:.0f} % | {m['corr_mean']:.2f} / {m['corr_min']:.2f} | "
              f"{m['dist']:.1f} | {dmin:.1f} | {m['nan']} | {m['full_pct']:.3f} | "
              f"{'exact' if m['duration_ok'] else 'WRONG'} | {m['flux']:.2f} |")
    accs = np.mean([summary[k]["accuracy"] for k in ids])
    print(f"| **all** | | {accs * 100:.0f} % | {np.mean([summary[k]['corr_mean'] for k in ids]):.2f} / "
          f"{np.min([summary[k]['corr_min'] for k in ids]):.2f} | {np.mean([summary[k]['dist'] for k in ids]):.1f} | "
          f"{np.min([summary[k]['min_pair'] for k in ids]):.1f} | {sum(summary[k]['nan'] for k in ids)} | "
          f"{np.max([summary[k]['full_pct'] for k in ids]):.3f} | | {np.max([summary[k]['flux'] for k in ids]):.2f} |")
    print("\nmisheard as (classifier segments; correct ones left out):")
    for si, sid in enumerate(ids):
        wrong = [(int(confusion[si, j]), ids[j]) for j in np.argsort(-confusion[si]) if j != si and confusion[si, j]]
        print(f"  {sid}: " + (", ".join(f"{name} {n}" for n, name in wrong) or "-"))
    print("\n| 50/50 mix (inside the model) | log-mel dist to the average of the two outputs dB | to style A dB | to style B dB |")
    print("|---|---|---|---|")
    for ab, r in mix_rows.items():
        print(f"| {ab[0]} + {ab[1]} | {np.mean(r['avg']):.1f} | {np.mean(r['a']):.1f} | {np.mean(r['b']):.1f} |")
    if "bestRealTimeFraction" in timing:
        print(f"\nspeed (onnxruntime-node, 1 thread, batch 1, window {W}, {timing['windows']} windows on a shared "
              f"machine): best {timing['bestMsPerWindow']:.1f} ms/window = {timing['bestRealTimeFraction'] * 100:.3f} % "
              f"of real time, median {timing['medianRealTimeFraction'] * 100:.3f} %, overall "
              f"{timing['realTimeFraction'] * 100:.3f} % per mono channel")
    else:
        print(f"\nspeed (torch, 1 thread): {timing['realTimeFraction'] * 100:.3f} % of real time per mono channel")
    print(f"eval took {time.time() - t0:.0f}s")
    os.makedirs(BUILD, exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"mixes": {"+".join(k): {kk: float(np.mean(vv)) for kk, vv in v.items()} for k, v in mix_rows.items()},
                   "runtime": runtime, "parity": parity, "timing": timing, "styles": summary,
                   "classifier_train_acc": clf_train_acc, "classifier_ceiling": ceiling, "confusion": confusion.tolist()}, f, indent=1)


if __name__ == "__main__":
    main()
