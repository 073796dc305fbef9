"""Independent evaluation of the style layers, through the real app (issue 13, "Evaluation").

usage: npm run models:eval -- [--app /path/to/checkout] [--also /path/to/another] [--amount 0.5] [--write]
                              [--sheet PATH] [--json PATH] [--cli]

* Inputs: real recorded music (6 pieces, 20 s each, 6 genres) and real speech (20 s), from Debian packages
  that neither the model side nor the classifier's references use (eval_data.py), written as 16-bit mono
  44.1 kHz WAV at -18 dBFS RMS.
* Every input x style runs through the app root given by --app (default: the checkout this file lives in):
  its own createServices() via eval_runner.mjs (or, with --cli, its `node_app/cli/enrich.ts`), with its own
  models/manifest.json, engine and ONNX model, at the default amount and a fixed seed.
* Judge: eval_classifier.py, trained only on real recordings, cross-validated by file and by package; it
  classifies 3 s segments of the added layer (output - input).
* Table: markdown on stdout; with --write also models/EVALUATION.md and the spectrogram sheet models/eval-sheet.png.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import soundfile as sf
import torch
from scipy.signal import find_peaks, lfilter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval_classifier as C  # noqa: E402
import eval_data as D  # noqa: E402

SR = D.SR
REPO = os.path.dirname(os.path.dirname(HERE))
SEED = 7
# style -> classes that count as a hit (None: no real class exists for it here)
STYLE_CLASS = {"rain": ["rain"], "thunderstorm": ["thunder", "rain"], "sea-waves": ["surf"], "wind": ["wind"],
               "birds": ["birds"], "fire": ["fire"], "metal": ["metal"], "vinyl": ["crackle"], "tape": ["hiss"]}
TARGETS = {"top1": 0.7, "level": -20.0, "logmel": 3.0, "pair": 3.0, "corr": 0.8, "dip": 0.5, "repeat": 0.15}


# ------------------------------------------------------------------ inputs
def prepare_inputs(root):
    os.makedirs(root, exist_ok=True)
    items = []
    for name, genre, pkg, path, start, dur in D.HELDOUT_MUSIC:
        items.append((name, "music", genre, D.decode(pkg, path, start, dur), [(pkg, path)]))
    sp, used = D.heldout_speech()
    items.append(("speech-fillets-cs", "speech", "speech (Czech voice actors)", sp,
                  [(D.HELDOUT_SPEECH_PARTS[0], u) for u in used]))
    out = []
    for name, kind, genre, x, files in items:
        x = x.astype(np.float64) * (10 ** (-18 / 20) / C.rms(x))
        if np.abs(x).max() > 0.98:
            x *= 0.98 / np.abs(x).max()
        p = os.path.join(root, name + ".wav")
        sf.write(p, x, SR, subtype="PCM_16")
        out.append({"name": name, "kind": kind, "genre": genre, "path": p, "files": files})
    return out


# ------------------------------------------------------------------ the app
def run_app(app, jobs, work, use_cli=False):
    todo = [j for j in jobs if not os.path.exists(j["output"])]
    if not todo:
        return
    tsx = os.path.join(app, "node_modules", ".bin", "tsx")
    if not os.path.exists(tsx):
        tsx = os.path.join(REPO, "node_modules", ".bin", "tsx")
    if not os.path.exists(tsx):
        raise SystemExit(f"no tsx: run `ONNXRUNTIME_NODE_INSTALL=skip npm ci` in {app}")
    env = dict(os.environ, LOG_LEVEL="warn")
    if not use_cli:
        jf, rf = os.path.join(work, "jobs.json"), os.path.join(work, "results.json")
        json.dump(todo, open(jf, "w"))
        r = subprocess.run([tsx, os.path.join(HERE, "eval_runner.mjs"), app, jf, rf], cwd=app, env=env)
        if r.returncode == 0:
            return
        print("eval_runner failed; falling back to the app's CLI, one process per job", file=sys.stderr)
    for j in todo:
        if os.path.exists(j["output"]):
            continue
        subprocess.run([tsx, "node_app/cli/enrich.ts", j["input"], "--style", j["style"], "--amount", str(j["amount"]),
                        "--seed", str(j["seed"]), "-o", j["output"]], cwd=app, env=env, check=True,
                       stdout=subprocess.DEVNULL)


def read(path):
    x, sr = sf.read(path, dtype="float64", always_2d=True)
    return x.mean(1), sr, x.shape[1]


# ------------------------------------------------------------------ measures
def _biquad_k(fs):
    """BS.1770 K-weighting (high shelf + high pass) for any sample rate (pyloudnorm's formulas)."""
    def shelf(G, fc, Q):
        A, w0 = 10 ** (G / 40), 2 * np.pi * fc / fs
        al, c = np.sin(w0) / (2 * Q), np.cos(w0)
        b = [A * ((A + 1) + (A - 1) * c + 2 * np.sqrt(A) * al), -2 * A * ((A - 1) + (A + 1) * c),
             A * ((A + 1) + (A - 1) * c - 2 * np.sqrt(A) * al)]
        a = [(A + 1) - (A - 1) * c + 2 * np.sqrt(A) * al, 2 * ((A - 1) - (A + 1) * c),
             (A + 1) - (A - 1) * c - 2 * np.sqrt(A) * al]
        return np.array(b) / a[0], np.array(a) / a[0]

    def hp(fc, Q):
        w0 = 2 * np.pi * fc / fs
        al, c = np.sin(w0) / (2 * Q), np.cos(w0)
        b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
        a = [1 + al, -2 * c, 1 - al]
        return np.array(b) / a[0], np.array(a) / a[0]
    return shelf(4.0, 1681.974450955533, 0.7071752369554196), hp(38.13547087602444, 0.5003270373238773)


K1, K2 = _biquad_k(SR)


def kweight(x):
    return lfilter(*K2, lfilter(*K1, x))


def block_loudness(x, block=0.4, hop=0.1):
    y = kweight(x) ** 2
    n, h = int(block * SR), int(hop * SR)
    c = np.concatenate([[0], np.cumsum(y)])
    s = np.arange(0, max(len(y) - n, 0) + 1, h)
    ms = (c[s + n] - c[s]) / n
    return -0.691 + 10 * np.log10(ms + 1e-12), ms


def lufs(x):
    """Integrated loudness, BS.1770 gating (-70 LUFS absolute, -10 LU relative)."""
    L, ms = block_loudness(x)
    keep = L > -70
    if not keep.any():
        return -120.0
    rel = -0.691 + 10 * np.log10(ms[keep].mean()) - 10
    keep &= L > rel
    return float(-0.691 + 10 * np.log10(ms[keep].mean() + 1e-12)) if keep.any() else -120.0


def db(r):
    return 20 * np.log10(max(r, 1e-12))


def norm_logmel(y, ref):
    """Log-mel (dB) of y scaled to ref's RMS, floored 80 dB under the reference's peak band."""
    m = C.logmel(y * (C.rms(ref) / (C.rms(y) + 1e-12)))
    return m


def logmel_dist(a, b, ref_m):
    top = ref_m.max()
    a, b = np.maximum(a, top - 80), np.maximum(b, top - 80)
    n = min(len(a), len(b))
    active = ref_m[:n].max(1) > top - 60
    return float(np.abs(a[:n] - b[:n])[active].mean())


def env_corr(x, y):
    Lx, _ = block_loudness(x)
    Ly, _ = block_loudness(y)
    keep = Lx > -70
    if keep.sum() < 3:
        return float("nan")
    return float(np.corrcoef(Lx[keep], Ly[keep])[0, 1])


def border_dip(d, window, overlap, sr_model):
    """Level of the added layer in the middle of each cross-fade (window border) vs the middle of the
    neighbouring windows' un-faded parts, in dB (negative = dip)."""
    scale = SR / sr_model
    hop = (window - overlap) * scale
    ov = overlap * scale
    w = max(int(ov / 2), 256)
    p = d ** 2
    c = np.concatenate([[0], np.cumsum(p)])

    def level(t):
        a = int(t - w / 2)
        if a < 0 or a + w > len(d):
            return None
        return (c[a + w] - c[a]) / w

    out = []
    k = 1
    while k * hop + ov < len(d):
        b = level(k * hop + ov / 2)
        m1 = level((k - 1) * hop + ov + (hop - ov) / 2)
        m2 = level(k * hop + ov + (hop - ov) / 2)
        if b is not None and m1 is not None and m2 is not None and m1 > 0 and m2 > 0 and b > 0:
            out.append(10 * np.log10(b / np.sqrt(m1 * m2)))
        k += 1
    return out


def fine_grain(x):
    """Log-mel bands (dB per frame of 512 samples) with each band's 1-s envelope and each frame's common level
    removed: what is left is the texture's fine grain, which a loop repeats and unrelated recordings do not."""
    m = C.logmel(x)
    k = int(round(SR / C.HOP))
    c = np.cumsum(np.pad(m, ((k // 2 + 1, k - k // 2 - 1), (0, 0)), mode="edge"), axis=0)
    m = m - (c[k:] - c[:-k]) / k
    return m - m.mean(1, keepdims=True)


def repetition(x, lags_s=(3.0, 300.0), step_s=0.25):
    """The largest correlation of the fine grain with itself at any lag from 3 s to 300 s, and that lag."""
    f = fine_grain(x)
    fps = SR / C.HOP
    best, at = -1.0, 0.0
    for lag in np.arange(lags_s[0], min(lags_s[1], len(f) / fps - 30), step_s):
        n = int(round(lag * fps))
        a, b = f[:-n].ravel(), f[n:].ravel()
        r = float(np.dot(a - a.mean(), b - b.mean()) / (np.std(a) * np.std(b) * len(a) + 1e-12))
        if r > best:
            best, at = r, float(lag)
    return best, at


def crests(x, prominence_db=6.0, min_gap_s=3.0):
    """How often a layer swells or strikes (a wave, a thunder clap or rumble, a gust), which the judge's classes
    cannot say: the layer's level every 0.1 s, smoothed over 1 s, and its crests standing ≥ prominence_db over
    the troughs beside them, ≥ min_gap_s apart. Returns the median seconds between crests (None for fewer than
    two) and the swing from the 10th to the 90th percentile of the level (dB)."""
    hop = SR // 10
    n = len(x) // hop
    level = 10 * np.log10((x[:n * hop].reshape(n, hop) ** 2).mean(1) + 1e-12)
    level = np.convolve(level, np.ones(10) / 10, mode="same")
    peaks, _ = find_peaks(level, prominence=prominence_db, distance=int(min_gap_s * 10))
    gap = float(np.median(np.diff(peaks)) / 10) if len(peaks) > 1 else None
    return gap, float(np.percentile(level, 90) - np.percentile(level, 10))


def long_input(root, seconds=600):
    """A 10-minute song: the held-out pieces played through, one after another, without repeating any."""
    p = os.path.join(root, "long-music.wav")
    if not os.path.exists(p):
        parts = [D.decode(pkg, path) for _, _, pkg, path, _, _ in D.HELDOUT_MUSIC]
        x = np.concatenate(parts)[:seconds * SR].astype(np.float64)
        if len(x) < seconds * SR:
            raise SystemExit(f"the held-out music is only {len(x) / SR:.0f} s long, not {seconds} s")
        x *= 10 ** (-18 / 20) / C.rms(x)
        sf.write(p, np.clip(x, -0.98, 0.98), SR, subtype="PCM_16")
    return p


# a user's own recording as the style `own`: held-out clips that no bank holds and no training used
# (banks.py writes them to build/heldout/), judged as their own class in the added layer
OWN_CLASS = {"rain": "rain", "sea-waves": "surf", "wind": "wind", "birds": "birds", "fire": "fire"}
OWN_MIN_SECONDS = 3.0


def own_textures():
    out = []
    for p in sorted(glob.glob(os.path.join(D.BUILD, "heldout", "*.wav"))):
        style = os.path.basename(p).rsplit("_", 1)[0]
        seconds = sf.info(p).duration
        if style in OWN_CLASS:
            out.append({"path": os.path.abspath(p), "name": os.path.basename(p)[:-4], "cls": OWN_CLASS[style],
                        "seconds": seconds, "usable": seconds >= OWN_MIN_SECONDS})
    return out


# ------------------------------------------------------------------ evaluation
def evaluate(app, amount, use_cli=False, clf=None):
    manifest = json.load(open(os.path.join(app, "models", "manifest.json")))
    version = manifest.get("version", "?")
    model = manifest.get("model", {})
    window, overlap = int(model.get("window", 0)), int(model.get("overlap", 0))
    sr_model = int(manifest.get("sampleRate", SR))
    # a style made of the user's own recording needs one: it is judged on its own below
    styles = [s["id"] for s in manifest["styles"] if not s.get("needsTexture")]
    work = os.path.join(D.BUILD, "eval-run", f"{os.path.basename(os.path.normpath(app))}-{version}-a{amount}")
    stamp = os.path.join(work, "model.stamp")
    onnx = os.path.join(app, "models", model.get("file", "enricher.onnx"))
    paths = ["node_app", "models/manifest.json", "models/banks", "package-lock.json"]
    head = subprocess.run(["git", "-C", app, "log", "-1", "--format=%H", "--"] + paths, capture_output=True, text=True).stdout.strip()
    diff = subprocess.run(["git", "-C", app, "diff", "HEAD", "--"] + paths, capture_output=True, text=True).stdout
    # re-run the app when its model, manifest or code changed (outputs are cached per app state)
    sig = (f"{os.path.getsize(onnx)}:{os.path.getmtime(onnx)}:{os.path.getmtime(os.path.join(app, 'models', 'manifest.json'))}"
           f":{head}:{hashlib.sha1(diff.encode()).hexdigest()}")
    if os.path.exists(stamp) and open(stamp).read() != sig:
        shutil.rmtree(work)
    os.makedirs(os.path.join(work, "out"), exist_ok=True)
    open(stamp, "w").write(sig)
    inputs = prepare_inputs(os.path.join(D.BUILD, "eval-run", "inputs"))
    jobs = [{"input": i["path"], "style": s, "amount": amount, "seed": SEED,
             "output": os.path.join(work, "out", f"{i['name']}.{s}.wav")} for i in inputs for s in styles]
    long_path = long_input(os.path.join(D.BUILD, "eval-run", "inputs"))
    own = own_textures() if any(st.get("needsTexture") for st in manifest["styles"]) else []
    music_inputs = [i for i in inputs if i["kind"] == "music"]
    jobs += [{"input": i["path"], "style": "own", "texture": t["path"], "amount": amount, "seed": SEED,
              "output": os.path.join(work, "out", f"{i['name']}.own-{t['name']}.wav")}
             for t in own if t["usable"] for i in music_inputs]
    recorded = [st["id"] for st in manifest["styles"] if (st.get("bank") or st.get("texture")) and not st.get("needsTexture")]
    jobs += [{"input": long_path, "style": s, "amount": amount, "seed": SEED,
              "output": os.path.join(work, "out", f"long.{s}.wav")} for s in recorded]
    t = time.time()
    run_app(app, jobs, work, use_cli)
    print(f"app runs: {len(jobs)} jobs ({time.time() - t:.0f} s)", file=sys.stderr)

    R = {s: {"top1": {}, "pred": {}, "level": {}, "lufs": {}, "logmel": {}, "corr": {}, "dip": [], "nan": 0,
             "clip": 0, "dur": 0, "peak": -120.0} for s in styles}
    outm = {}
    layers = {}
    for inp in inputs:
        x, sr_in, ch_in = read(inp["path"])
        xm = C.logmel(x)
        for s in styles:
            raw, sr_o, ch_o = read(os.path.join(work, "out", f"{inp['name']}.{s}.wav"))
            r = R[s]
            r["nan"] += int(not np.isfinite(raw).all())
            y = np.nan_to_num(raw)
            r["dur"] += int(len(y) != len(x) or sr_o != sr_in or ch_o != ch_in)
            r["clip"] += int(np.abs(y).max() >= 32767 / 32768)
            r["peak"] = max(r["peak"], db(np.abs(y).max()))
            n = min(len(x), len(y))
            d = y[:n] - x[:n]
            layers[(inp["name"], s)] = d
            k = inp["kind"]
            r["level"].setdefault(k, []).append(db(C.rms(d) / C.rms(x)))
            r["lufs"].setdefault(k, []).append(lufs(d) - lufs(x))
            ym = norm_logmel(y, x)
            outm[(inp["name"], s)] = ym
            r["logmel"].setdefault(k, []).append(logmel_dist(xm, ym, xm))
            r["corr"].setdefault(k, []).append(env_corr(x, y))
            if window and k == "music" and s not in recorded:  # recorded styles: over ten minutes, below
                r["dip"] += border_dip(d, window, overlap, sr_model)
            segs = C.segments(d)
            pred = clf.predict(np.array([C.features(g) for g in segs]))
            r["pred"].setdefault(k, []).extend(pred.tolist())
    # closest pair of styles on the same input (music)
    music = [i for i in inputs if i["kind"] == "music"]
    S = len(styles)
    pair = np.zeros((S, S))
    for i in music:
        xm = C.logmel(read(i["path"])[0])
        for a in range(S):
            for b in range(a + 1, S):
                pair[a, b] += logmel_dist(outm[(i["name"], styles[a])], outm[(i["name"], styles[b])], xm) / len(music)
    pair = pair + pair.T + np.eye(S) * 1e9
    for a, s in enumerate(styles):
        b = int(pair[a].argmin())
        R[s]["nearest"] = (styles[b], float(pair[a, b]))
        for k, preds in R[s]["pred"].items():
            hits = STYLE_CLASS.get(s)
            counts = np.bincount(preds, minlength=len(D.CLASSES))
            R[s]["top1"][k] = None if hits is None else float(sum(counts[D.CLASSES.index(h)] for h in hits) / len(preds))
            R[s].setdefault("heard", {})[k] = [(D.CLASSES[c], counts[c] / len(preds)) for c in np.argsort(-counts)[:2] if counts[c]]
    # the judge on each style's own recordings, unprocessed (its bank's bed clips one after another, or v2's
    # loop): what a perfect pass-through of the recordings would score
    for st in manifest["styles"]:
        files = st["bank"]["bed"] if st.get("bank") else [st["texture"]] if st.get("texture") else []
        if files and st["id"] in STYLE_CLASS:
            bed = np.concatenate([read(os.path.join(app, "models", f))[0] for f in files])
            pred = clf.predict(np.array([C.features(g) for g in C.segments(bed)]))
            R[st["id"]]["loop"] = float(np.mean([D.CLASSES[c] in STYLE_CLASS[st["id"]] for c in pred]))
    # ten minutes of music: does the layer's fine grain repeat (a loop), and how often is thunder heard
    xl = read(long_path)[0]
    for s in recorded:
        d = read(os.path.join(work, "out", f"long.{s}.wav"))[0][:len(xl)] - xl
        R[s]["repeat"] = repetition(d)
        if window:
            # styles with recordings: their events fall at the same places in every 20-s piece (one seed), so
            # the pieces' borders are not independent; the ten minutes hold ~290 borders with their own events
            R[s]["dip"] = border_dip(d, window, overlap, sr_model)
        R[s]["crests"] = crests(d)
        if s == "thunderstorm":
            segs = C.segments(d)
            pred = clf.predict(np.array([C.features(g) for g in segs]))
            R[s]["thunder_per_min"] = float(np.sum(pred == D.CLASSES.index("thunder")) * 60 / (len(d) / SR))
    # the style `own` with each held-out recording: heard as its class in the layer, against the recording alone
    own_rows = []
    for t in own:
        rec = read(t["path"])[0]
        alone = clf.predict(np.array([C.features(g) for g in C.segments(rec)])) if len(rec) >= C.SEG * SR else []
        row = {"name": t["name"], "cls": t["cls"], "seconds": t["seconds"],
               "alone": float(np.mean([D.CLASSES[c] == t["cls"] for c in alone])) if len(alone) else None}
        if t["usable"]:
            preds = []
            for i in music_inputs:
                x = read(i["path"])[0]
                d = read(os.path.join(work, "out", f"{i['name']}.own-{t['name']}.wav"))[0][:len(x)] - x
                preds += clf.predict(np.array([C.features(g) for g in C.segments(d)])).tolist()
            row["layer"] = float(np.mean([D.CLASSES[c] == t["cls"] for c in preds]))
        own_rows.append(row)
    rev = subprocess.run(["git", "-C", app, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", app, "status", "--porcelain", "--", "models/manifest.json", "models/*.onnx", "models/textures", "node_app"], capture_output=True, text=True).stdout.strip()
    rev = (rev or "?") + (" + uncommitted changes to the model, textures, manifest or node_app/" if dirty else "")
    return {"version": version, "app": app, "rev": rev, "styles": styles, "R": R, "inputs": inputs, "layers": layers,
            "window": window, "overlap": overlap, "sr_model": sr_model, "amount": amount, "pair": pair, "own": own_rows}


# ------------------------------------------------------------------ report
def fmt(v, f="{:.1f}", none="–"):
    return none if v is None or (isinstance(v, float) and not np.isfinite(v)) else f.format(v)


def mean(v):
    v = [a for a in v if a is not None and np.isfinite(a)]
    return float(np.mean(v)) if v else None


def median(v):
    v = [a for a in v if a is not None and np.isfinite(a)]
    return float(np.median(v)) if v else None


def table(E, cv):
    R, styles = E["R"], E["styles"]
    h = ("| style | real class | class ceiling (file / package CV) | top-1 on added layer, music | heard as (music) "
         "| top-1, the style's bank alone | top-1, speech | layer re input, music: RMS dB / LUFS-like dB | layer re input, speech (LUFS-like dB) "
         "| log-mel change in→out (dB) | nearest style (dB apart) | loudness-envelope corr in↔out "
         "| window-border level (dB) | fine grain repeats, 10 min (corr @ lag) | NaN / clip / duration |")
    lines = [h, "|" + "---|" * (h.count("|") - 1)]
    for s in styles:
        r = R[s]
        cls = STYLE_CLASS.get(s)
        if cls:
            c = cls[0]
            ce = cv.get(c, {})
            ceil = f"{fmt(ce.get('file'), '{:.0%}')} / {fmt(ce.get('package'), '{:.0%}', 'n/a')}" + (" (one recording: halves)" if ce.get("within_file") else "")
            cname = "+".join(cls) if s == "thunderstorm" else c
        else:
            ceil, cname = "–", "none here"
        heard = ", ".join(f"{c} {p:.0%}" for c, p in r.get("heard", {}).get("music", []))
        t1m = fmt(r["top1"].get("music"), "{:.0%}", "n/a")
        t1s = fmt(r["top1"].get("speech"), "{:.0%}", "n/a")
        t1l = fmt(r.get("loop"), "{:.0%}", "no recordings")
        rep = f"{r['repeat'][0]:.2f} @ {r['repeat'][1]:.1f} s" if r.get("repeat") else "–"
        if r.get("thunder_per_min") is not None:
            rep += f"; thunder in {r['thunder_per_min']:.1f} segments/min"
        if r.get("crests"):
            rep += f"; a crest every {fmt(r['crests'][0])} s, {r['crests'][1]:.0f} dB deep"
        lvl = f"{fmt(mean(r['level'].get('music', [])), '{:+.1f}')} / {fmt(mean(r['lufs'].get('music', [])), '{:+.1f}')}"
        lsp = fmt(mean(r["lufs"].get("speech", [])), "{:+.1f}")
        lm = fmt(mean(r["logmel"].get("music", [])))
        ns, nd = r["nearest"]
        dip = fmt(median(r["dip"]), "{:+.2f}") + (f" (±{1.25 * np.std(r['dip']) / np.sqrt(len(r['dip'])):.2f})" if r["dip"] else "")
        cor = fmt(mean(r["corr"].get("music", [])), "{:.2f}")
        ok = f"{r['nan']} / {r['clip']} / {'exact' if r['dur'] == 0 else str(r['dur']) + ' off'}"
        lines.append(f"| {s} | {cname} | {ceil} | {t1m} | {heard} | {t1l} | {t1s} | {lvl} | {lsp} | {lm} | {ns} ({nd:.1f}) | {cor} | {dip} | {rep} | {ok} |")
    return "\n".join(lines)


def misses(E, cv):
    R, out = E["R"], []
    for s in E["styles"]:
        r, m = R[s], []
        t = r["top1"].get("music")
        ce = cv.get(STYLE_CLASS[s][0], {}) if s in STYLE_CLASS else {}
        ceil = ce.get("package") if ce.get("package") is not None else ce.get("file")
        if t is not None and ceil is not None and ceil < 0.5:
            m.append(f"top-1 {t:.0%} not conclusive: the judge's ceiling for {STYLE_CLASS[s][0]} is {ceil:.0%}"
                     + (f" (its own recording, unprocessed: {r['loop']:.0%})" if r.get("loop") is not None else ""))
        elif t is not None and t < TARGETS["top1"] and (ceil is None or t < ceil - 0.10):
            m.append(f"top-1 {t:.0%} < 70 % and > 10 points under the class ceiling {fmt(ceil, '{:.0%}')}"
                     + (f" (the judge gives the style's own recording, unprocessed, {r['loop']:.0%})" if r.get("loop") is not None else ""))
        lv = mean(r["lufs"].get("music", []))
        if lv is not None and lv < TARGETS["level"]:
            m.append(f"layer {lv:+.1f} dB < −20 dB")
        lm = mean(r["logmel"].get("music", []))
        if lm is not None and lm < TARGETS["logmel"]:
            m.append(f"log-mel change {lm:.1f} dB < 3 dB")
        if r["nearest"][1] < TARGETS["pair"]:
            m.append(f"{r['nearest'][1]:.2f} dB from {r['nearest'][0]} < 3 dB")
        c = mean(r["corr"].get("music", []))
        if c is not None and c < TARGETS["corr"]:
            m.append(f"envelope corr {c:.2f} < 0.8")
        dp = median(r["dip"])
        se = 1.25 * np.std(r["dip"]) / np.sqrt(len(r["dip"])) if r["dip"] else 0
        if dp is not None and abs(dp) > TARGETS["dip"] and abs(dp) > 2 * se:
            m.append(f"border level {dp:+.2f} ± {se:.2f} dB (|…| > 0.5 dB)")
        if r.get("repeat") and r["repeat"][0] > TARGETS["repeat"]:
            m.append(f"fine grain repeats: {r['repeat'][0]:.2f} at {r['repeat'][1]:.1f} s (> {TARGETS['repeat']})")
        if r["nan"] or r["clip"] or r["dur"]:
            m.append("NaN/clip/duration")
        out.append(f"- **{s}**: " + ("; ".join(m) if m else "meets the targets measured here"))
    return "\n".join(out)


def own_table(E):
    lines = ["| recording (held out) | class | seconds | heard as its class: the recording alone | in the added layer, style `own` on music |",
             "|---|---|---|---|---|"]
    for r in E["own"]:
        layer = fmt(r.get("layer"), "{:.0%}") if "layer" in r else f"not run (under {OWN_MIN_SECONDS:.0f} s, the texture minimum)"
        lines.append(f"| {r['name']} | {r['cls']} | {r['seconds']:.1f} | {fmt(r['alone'], '{:.0%}', 'too short to judge')} | {layer} |")
    return "\n".join(lines)


def ceilings_table(cv):
    lines = ["| class | files | packages | top-1, files held out | top-1, packages held out |", "|---|---|---|---|---|"]
    for c in D.CLASSES:
        r = cv[c]
        note = " (one recording: its two halves)" if r["within_file"] else ""
        lines.append(f"| {c} | {r['files']} | {r['packages']} | {fmt(r['file'], '{:.0%}')}{note} | {fmt(r['package'], '{:.0%}', 'n/a (one package)')} |")
    return "\n".join(lines)


def sources_table(E):
    rows = {}
    for c, p, path, s, d in D.CLASS_SOURCES:
        rows.setdefault((p, "class: " + c), []).append(path.split("/")[-1] if "*" not in path else path.rsplit("/", 2)[-2] + "/*")
    for i in E["inputs"]:
        for p, path in i["files"]:
            rows.setdefault((p, f"held-out {i['kind']}"), []).append(path.split("/")[-1])
    lines = ["| package | role | files | licence (debian/copyright) |", "|---|---|---|---|"]
    for (p, role), files in sorted(rows.items()):
        lic = sorted({D.licence(p, f) for f in [x for c, pp, x, *_ in D.CLASS_SOURCES if pp == p] + [x for i in E["inputs"] for pp, x in i["files"] if pp == p]})
        fl = ", ".join(files[:6]) + (f" … ({len(files)})" if len(files) > 6 else "")
        lines.append(f"| {p} | {role} | {fl} | {'; '.join(lic)} |")
    return "\n".join(lines)


def sheet(Es, path):
    """Log-mel spectrograms: one held-out input and each style's added layer per evaluated version (same dB
    scale as the input), and the longest real reference recording of each class."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    inp = Es[0]["inputs"][0]
    x = read(inp["path"])[0]
    secs = 8
    n = secs * SR
    cols = []
    for E in Es:
        cols.append([(f"input: {inp['name']}", x[:n], True)] +
                    [(f"v{E['version']} added layer: {s}", E["layers"][(inp["name"], s)][:n], True) for s in E["styles"]])
    right = []
    for c in D.CLASSES:
        src = max((s for s in D.CLASS_SOURCES if s[0] == c), key=lambda s: len(D.decode(*s[1:])))
        right.append((f"real {c}: {src[1]} {src[2].split('/')[-1]}", D.decode(*src[1:])[:n], False))
    cols.append(right)
    rows = max(len(c) for c in cols)
    fig, axs = plt.subplots(rows, len(cols), figsize=(6.5 * len(cols), 1.0 * rows), squeeze=False)
    ref_in = C.logmel(x[:n]).max()
    for ci, items in enumerate(cols):
        for r in range(rows):
            ax = axs[r, ci]
            ax.set_xticks([])
            ax.set_yticks([])
            if r >= len(items):
                ax.axis("off")
                continue
            title, y, rel = items[r]
            m = C.logmel(y)
            ref = ref_in if rel else m.max()
            ax.imshow(m.T, origin="lower", aspect="auto", cmap="magma", vmin=ref - 80, vmax=ref,
                      extent=[0, len(y) / SR, 0, C.N_MEL], interpolation="nearest")
            ax.set_xlim(0, secs)
            ax.text(0.005, 0.92, title, transform=ax.transAxes, color="white", fontsize=7, va="top")
    vs = " vs ".join("v" + E["version"] for E in Es)
    fig.suptitle(f"Noise Enricher {vs}: log-mel spectrograms (40 Hz–16 kHz, 80 dB range, 8 s), amount {Es[0]['amount']}. "
                 "Layer columns: one held-out input and each style's added layer (output − input) on the input's dB scale; "
                 "right: a real reference recording per class (own scale)", fontsize=8)
    plt.tight_layout(rect=[0, 0, 1, 0.985])
    plt.savefig(path, dpi=62)
    plt.close(fig)
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", default=REPO, help="app checkout to evaluate (default: this one)")
    ap.add_argument("--also", action="append", default=[], help="another app checkout to evaluate in the same run "
                    "(its own table and EVALUATION.md section; the sheet shows both)")
    ap.add_argument("--amount", type=float, default=0.5)
    ap.add_argument("--cli", action="store_true", help="one CLI process per job instead of eval_runner.mjs")
    ap.add_argument("--write", action="store_true", help="write models/EVALUATION.md and models/eval-sheet.png here")
    ap.add_argument("--sheet", help="write the spectrogram sheet to this path")
    ap.add_argument("--json", help="write the numbers to this JSON file")
    a = ap.parse_args()
    torch.set_num_threads(1)
    app = os.path.abspath(a.app)
    D.fetch()
    t = time.time()
    cv = C.cross_validate()
    clf = C.train_final()
    print(f"classifier: cross-validated and trained on real recordings ({time.time() - t:.0f} s)", file=sys.stderr)
    Es, out = [], {}
    for root in [app] + [os.path.abspath(p) for p in a.also]:
        E = evaluate(root, a.amount, a.cli, clf)
        Es.append(E)
        tab, miss = table(E, cv), misses(E, cv)
        if E["own"]:
            tab += "\n\nYour own sound (the style `own` with a held-out recording as `texture`, on the six pieces):\n\n" + own_table(E)
        print(f"\n## v{E['version']} ({root}), amount {a.amount}, seed {SEED}\n")
        print(tab)
        print("\nMisses against issue 22's targets:\n" + miss)
        out[E["version"]] = {"app": root, "R": {s: {k: v for k, v in r.items() if k != "pred"} for s, r in E["R"].items()}}
        if a.write:
            import eval_report
            eval_report.write(E, cv, tab, miss, ceilings_table(cv), sources_table(E))
    print("\nClassifier ceilings:\n" + ceilings_table(cv))
    if a.json:
        json.dump({"amount": a.amount, "versions": out, "ceilings": {c: cv[c] for c in D.CLASSES}},
                  open(a.json, "w"), indent=1, default=float)
    for png in [a.sheet] + ([os.path.join(os.path.dirname(HERE), "eval-sheet.png")] if a.write else []):
        if png:
            print(f"sheet: {png} ({sheet(Es, png) / 1e6:.2f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
