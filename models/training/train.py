"""Train EnricherNet v3, export models/enricher.onnx and models/manifest.json.

Corpus: build/train3.npz (dry MIDI music + the MIDI/procedural layers of the styles without recordings:
blues, hip-hop, metal, piano, tape, plus the v1.5 crackle part of vinyl) and the shipped banks of real
recordings, models/banks/ (index.json). The `texture` and `events` inputs are made as the engine makes them
(grains.py: random cross-faded segments of the bank, single events in slots; sqrt(weight) for mixes). The
target of a recorded style is that same bed times a phrase-level gain of the music, plus the same events
times that gain and the music's room for them (targets.py). The `own` style is trained on recordings drawn
from every bank, one clip at a time, with events found in the clip itself: a user's upload is shaped the same.

v4 (`--arch lite --teacher build/enricher-v3.3.0-c.pt`): the smaller LiteEnricherNet learns the v3 network's
output for the same inputs (noise included), plus a quarter of the loss against the targets themselves.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from enricher_net import (EnricherNet, LiteEnricherNet, export_onnx, from_checkpoint, load_weights,  # noqa: E402
                          mel_filterbank, SR, WINDOW, OVERLAP, MARGIN, HOP, TEX_RMS)
from styles import STYLES, DEFAULT_STYLE, CREDITS, LICENSES  # noqa: E402
import grains  # noqa: E402
import targets  # noqa: E402

OWN = "own"

MODELS = os.path.dirname(HERE)
RESOLUTIONS = [(2048, 512, 96), (1024, 256, 64), (512, 128, 48), (256, 64, 32)]


class SpecLoss(torch.nn.Module):
    """Multi-resolution log-mel L1 plus linear-magnitude spectral convergence."""

    def __init__(self, texture=True, energy_w=1.5, sort_w=1.0, level_w=0.0, flux_w=0.0):
        super().__init__()
        self.texture = texture
        self.energy_w, self.sort_w, self.level_w, self.flux_w = energy_w, sort_w, level_w, flux_w
        for i, (n, h, m) in enumerate(RESOLUTIONS):
            self.register_buffer(f"mel{i}", torch.from_numpy(mel_filterbank(SR, n, m)))
            self.register_buffer(f"win{i}", torch.hann_window(n))

    def forward(self, y, t):
        loss = 0.0
        for i, (n, h, m) in enumerate(RESOLUTIONS):
            win, mel = getattr(self, f"win{i}"), getattr(self, f"mel{i}")
            Y = torch.stft(y, n, h, window=win, return_complex=True).abs() ** 2 / n
            T = torch.stft(t, n, h, window=win, return_complex=True).abs() ** 2 / n
            my, mt = mel @ Y, mel @ T
            loss = loss + (torch.log(my + 1e-9) - torch.log(mt + 1e-9)).abs().mean()
            loss = loss + 0.5 * (my.sqrt() - mt.sqrt()).norm() / (mt.sqrt().norm() + 1e-7)
            if n == 1024:
                loss = loss + 0.3 * (torch.log(Y + 1e-9) - torch.log(T + 1e-9)).abs().mean()
            if n == 1024 and self.texture:
                # energy over ~90 ms blocks: log of averaged power has no bias against sparse
                # clicks, drops and chirps (a per-frame log-L1 alone settles on their median, i.e. silence)
                by = F.avg_pool1d(my, 16, 8)
                bt = F.avg_pool1d(mt, 16, 8)
                loss = loss + self.energy_w * (torch.log(by + 1e-9) - torch.log(bt + 1e-9)).abs().mean()
                # each band's level over the whole crop: sparse sounds must keep their loudness
                ly, lt = torch.log(my.mean(-1) + 1e-9), torch.log(mt.mean(-1) + 1e-9)
                loss = loss + self.level_w * (ly - lt).abs().mean()
            if self.texture and self.flux_w:
                # how much each band changes from frame to frame, averaged over the crop: crackle and
                # chirps flicker, hiss does not; like the sorted levels it needs no exact timing
                fy = (torch.log(my[..., 1:] + 1e-9) - torch.log(my[..., :-1] + 1e-9)).abs().mean(-1)
                ft = (torch.log(mt[..., 1:] + 1e-9) - torch.log(mt[..., :-1] + 1e-9)).abs().mean(-1)
                loss = loss + self.flux_w * (fy - ft).abs().mean()
            if n == 512 and self.texture:
                # texture statistics: the distribution over time of each band's level (sorted
                # frames), so random crackle and drops are rewarded without matching their timing
                sy = torch.sort(torch.log(my + 1e-9), dim=-1)[0]
                st = torch.sort(torch.log(mt + 1e-9), dim=-1)[0]
                loss = loss + self.sort_w * (sy - st).abs().mean()
        return loss / len(RESOLUTIONS)


def write_manifest(style_ids, window, overlap, extra, banks):
    """models/manifest.json: the styles, the model's contract, and each recorded style's bank."""
    styles = []
    for i, sid in enumerate(style_ids):
        st = next(s for s in STYLES if s["id"] == sid)
        d = dict(id=sid, label=st["label"], kind=st["kind"], description=st["description"], index=i)
        if sid in banks:
            spec = banks[sid]
            d["bank"] = {"bed": [f"banks/{f}" for f in spec["bed"]], "events": [f"banks/{f}" for f in spec["events"]],
                         "eventEvery": grains.EVENT_EVERY[sid]}
            if sid in grains.SEGMENT_BY_STYLE:
                d["bank"]["segment"] = grains.SEGMENT_BY_STYLE[sid]
        if sid == OWN:
            d["needsTexture"] = True
        if sid in CREDITS:
            d["credit"] = CREDITS[sid]
            d["license"] = LICENSES[sid]
        styles.append(d)
    man = {
        "version": extra.pop("version", "3.0.0"),
        "sampleRate": SR,
        "defaultStyle": DEFAULT_STYLE if DEFAULT_STYLE in style_ids else style_ids[0],
        "model": {"file": "enricher.onnx",
                  "inputs": {"audio": "audio", "style": "style", "noise": "noise", "texture": "texture",
                             "events": "events"},
                  "output": "wet", "window": window, "overlap": overlap, "channels": 1,
                  "defaultAmount": 0.5, "margin": MARGIN,
                  "grains": {"segment": grains.SEGMENT_S, "fade": grains.FADE_S, "eventSpreadDb": grains.EVENT_SPREAD_DB,
                             "ownEventEvery": grains.OWN_EVENT_EVERY}},
        "styles": styles,
    }
    man.update(extra)
    with open(os.path.join(MODELS, "manifest.json"), "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")


def bank_index(root):
    with open(os.path.join(root, "index.json")) as f:
        return json.load(f)["styles"]


def prepare(dry, banks):
    """Per piece and recorded style: the bed's amplitude and the events' amplitude per frame."""
    tex_k = {sid: targets.kloud_db(np.concatenate(b["bed"])) for sid, b in banks.items()}
    bed_amp, ev_amp = {}, {}
    for p in range(dry.shape[0]):
        x = dry[p].astype(np.float64)
        for sid in list(banks) + [OWN]:
            g_db, lp = targets.gain_curve_db(x, sid)
            # amplitude on the bed: music loudness + gain, over the bank's own K-weighted loudness (own: per clip)
            bed_db = g_db + lp - tex_k.get(sid, 0.0)
            ev_db = bed_db + targets.room_db(x, sid) + targets.EVENT_STYLES[sid]["offset_db"]
            bed_amp.setdefault(sid, []).append((10 ** (bed_db / 20)).astype(np.float32))
            ev_amp.setdefault(sid, []).append((10 ** (ev_db / 20)).astype(np.float32))
    return ({k: np.stack(v) for k, v in bed_amp.items()}, {k: np.stack(v) for k, v in ev_amp.items()})


def own_recording(banks, rng):
    """A stand-in for a user's upload: one clip of one bank, 3–30 s of it, at the banks' level."""
    sid = list(banks)[rng.randint(len(banks))]
    clip = banks[sid]["bed"][rng.randint(len(banks[sid]["bed"]))]
    n = min(len(clip), int(rng.uniform(3, 30) * SR))
    o = rng.randint(len(clip) - n + 1)
    pcm = clip[o:o + n].astype(np.float64)
    pcm = (pcm * TEX_RMS / (np.sqrt(np.mean(pcm ** 2)) + 1e-9)).astype(np.float32)
    return {"bed": [pcm], "events": grains.events_from_recording(pcm), "k": targets.kloud_db(pcm)}


def unfold_heads(src):
    """v2.2's ONNX file folds each spectral head into (even, odd) halves with generated names; in the order the
    graph uses them (noise, click, texture, music, drive) they give back each head's weight and bias."""
    folded = [k for k in src if k.startswith("onnx::Conv_")]
    if len(folded) != 20:
        return {}
    from enricher_net import EVEN, ODD, N_BINS
    out = {}
    for h, name in enumerate(["head_noise", "head_click", "head_tex", "head_music", "head_drive"]):
        we, be, wo, bo = (src[k] for k in folded[4 * h:4 * h + 4])
        weight = torch.zeros(N_BINS, *we.shape[1:])
        bias = torch.zeros(N_BINS)
        weight[EVEN], bias[EVEN], weight[ODD], bias[ODD] = we, be, wo, bo
        out[f"{name}.weight"], out[f"{name}.bias"] = weight, bias
    return out


def lite_from_full(src, own):
    """A v3 checkpoint read as a start for LiteEnricherNet: FiLM layers keep their (scale, shift) halves when
    narrowed, and each per-frame head starts as the mean over the bins of the v3 head it replaces."""
    src = dict(src)
    for k, v in list(src.items()):
        if k.endswith((".film.weight", ".film.bias")) and k in own and own[k].shape != v.shape:
            n = own[k].shape[0] // 2
            half = v.shape[0] // 2
            src[k] = torch.cat([v[:n], v[half:half + n]])
    if "head_tex.weight" in src:
        ch = own["head_frame.weight"].shape[1]
        per_bin = {name: (src[f"head_{name}.weight"][:, :ch].mean(0), src[f"head_{name}.bias"].mean())
                   for name in ("tex", "drive", "click")}
        per_bin["event"] = (src["head_event.weight"][0, :ch], src["head_event.bias"][0])
        names = [n for n, _, _ in LiteEnricherNet.FRAME_HEADS]
        src["head_frame.weight"] = torch.stack([per_bin[n][0] for n in names])
        src["head_frame.bias"] = torch.stack([per_bin[n][1] for n in names])
    return src


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--steps", type=int, default=10 ** 9)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--crop", type=int, default=WINDOW)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mix-prob", type=float, default=0.15)
    ap.add_argument("--ckpt", default=os.path.join(HERE, "build", "enricher.pt"))
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--banks", default=os.path.join(MODELS, "banks"), help="a bank folder with index.json")
    ap.add_argument("--init", default="", help="warm start from a checkpoint (.pt) or ONNX file (missing layers stay fresh)")
    ap.add_argument("--version", default="2.0.0")
    ap.add_argument("--texture-loss", type=int, default=1)
    ap.add_argument("--energy-weight", type=float, default=2.0)
    ap.add_argument("--oversample", default="", help="id=factor,... sample some styles more often")
    ap.add_argument("--sort-weight", type=float, default=1.0)
    ap.add_argument("--level-weight", type=float, default=1.0)
    ap.add_argument("--flux-weight", type=float, default=1.0)
    ap.add_argument("--vinyl-crackle", type=float, default=0.7, help="share of the v1.5 crackle layer in vinyl")
    ap.add_argument("--arch", choices=["full", "lite"], default="full", help="EnricherNet (v3) or LiteEnricherNet (v4)")
    ap.add_argument("--channels", type=int, default=0, help="the frame network's width (0: the architecture's own)")
    ap.add_argument("--teacher", default="", help="distil: a v3 checkpoint whose output the model learns to match")
    ap.add_argument("--target-weight", type=float, default=0.25, help="with --teacher, the weight of the targets' loss")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.RandomState(a.seed)
    d = np.load(a.data)
    dry, wet = d["dry"], d["wet"]
    corpus_ids = [str(s) for s in d["styles"]]
    style_ids = [s["id"] for s in STYLES]
    S = len(style_ids)
    banks = grains.load_banks(a.banks)
    banks = {sid: banks[sid] for sid in style_ids if sid in banks}
    P, L = dry.shape
    t0 = time.time()
    bed_amp, ev_amp = prepare(dry, banks)
    print(f"data: {P} pieces, {L / SR:.1f}s each; corpus layers {corpus_ids}; banks "
          f"{ {k: (len(v['bed']), round(sum(map(len, v['bed'])) / SR), len(v['events'])) for k, v in banks.items()} } "
          f"(clips, bed seconds, events); targets prepared in {time.time() - t0:.0f}s", flush=True)
    arch = LiteEnricherNet if a.arch == "lite" else EnricherNet
    model = arch(S, ch=a.channels) if a.channels else arch(S)
    teacher = None
    if a.teacher:
        teacher = from_checkpoint(torch.load(a.teacher)).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    if a.resume and os.path.exists(a.ckpt):
        load_weights(model, torch.load(a.ckpt)["model"])
        print("resumed", a.ckpt)
    elif a.init:
        if a.init.endswith(".onnx"):
            from onnx_weights import read_initializers
            src = {k: torch.from_numpy(v) for k, v in read_initializers(a.init).items()}
            src.update(unfold_heads(src))
        else:
            src = torch.load(a.init)["model"]
        own = model.state_dict()
        if a.arch == "lite":
            src = lite_from_full(src, own)
        for k, v in src.items():
            if k in own and own[k].shape == v.shape:
                own[k] = v
            elif k in own and v.dim() == own[k].dim() and all(n <= m for n, m in zip(v.shape, own[k].shape)):
                own[k].zero_()  # grown input layer: copy the old slice
                own[k][tuple(slice(0, n) for n in v.shape)] = v
                print("partially loaded", k, tuple(v.shape), "->", tuple(own[k].shape))
            elif k in own and v.dim() == own[k].dim():  # a narrower network: its first channels of each layer
                own[k] = v[tuple(slice(0, n) for n in own[k].shape)].clone()
                print("narrowed", k, tuple(v.shape), "->", tuple(own[k].shape))
        model.load_state_dict(own)
        print("warm start from", a.init, "missing:", [k for k in own if k not in src])
    crit = SpecLoss(texture=bool(a.texture_loss), energy_w=a.energy_weight, sort_w=a.sort_weight,
                    level_w=a.level_weight, flux_w=a.flux_weight)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    total_s = a.minutes * 60
    t0 = time.time()
    step, run = 0, []
    eye = np.eye(S, dtype=np.float32)
    pick = np.ones(S)
    for item in filter(None, a.oversample.split(",")):
        k, v = item.split("=")
        pick[style_ids.index(k)] = float(v)
    pick /= pick.sum()
    C = a.crop
    fr = np.arange(C) / HOP
    own_i = style_ids.index(OWN)

    def along(curve, o):
        return np.interp(o / HOP + fr, np.arange(len(curve)), curve).astype(np.float32)

    def streams(bank, sid):
        every = grains.OWN_EVENT_EVERY if sid == OWN else grains.EVENT_EVERY[sid]
        segment = grains.SEGMENT_BY_STYLE.get(sid, grains.SEGMENT_S)
        return grains.bed_stream(bank["bed"], C, rng, segment), grains.event_stream(bank["events"], C, every, rng)

    def layer(sid, p, o, recorded, own_k):
        """Target layer of one style for piece p at sample offset o, given the recorded streams fed."""
        t = np.zeros(C, np.float32)
        if sid in recorded:
            bed, ev = recorded[sid]
            k = 10 ** (-own_k / 20) if sid == OWN else 1.0
            t += k * (along(bed_amp[sid][p], o) * bed + along(ev_amp[sid][p], o) * ev)
        if sid in corpus_ids:
            t += (a.vinyl_crackle if sid == "vinyl" else 1.0) * wet[p, corpus_ids.index(sid), o:o + C].astype(np.float32)
        return t

    def save_checkpoint():  # the architecture and width go with the weights (enricher_net.from_checkpoint)
        torch.save({"model": model.state_dict(), "styles": style_ids, "step": step, "arch": a.arch,
                    "channels": a.channels}, a.ckpt)

    while step < a.steps and time.time() - t0 < total_s:
        frac = max((time.time() - t0) / total_s, step / a.steps)
        for g in opt.param_groups:
            g["lr"] = a.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0))))
        xs, ts, ss, txs, evs = [], [], [], [], []
        for _ in range(a.batch):
            p = rng.randint(P)
            o = rng.randint(L - C)
            x = dry[p, o:o + C].astype(np.float32)
            s = rng.choice(S, p=pick) if a.oversample else rng.randint(S)
            w = eye[s]
            chosen = [s]
            if rng.rand() < a.mix_prob:
                s2 = (s + 1 + rng.randint(S - 1)) % S
                lam = rng.uniform(0.25, 0.75)
                w = lam * eye[s] + (1 - lam) * eye[s2]
                chosen.append(s2)
            recorded, own_k = {}, 0.0
            for i in chosen:
                sid = style_ids[i]
                if sid == OWN:
                    bank = own_recording(banks, rng)
                    own_k = bank["k"]
                    recorded[sid] = streams(bank, sid)
                elif sid in banks:
                    recorded[sid] = streams(banks[sid], sid)
            t = sum(w[i] * layer(style_ids[i], p, o, recorded, own_k) for i in chosen)
            # exactly the engine's inputs: each recorded style's streams at sqrt(weight)
            tex = sum((np.sqrt(w[style_ids.index(k)]) * v[0] for k, v in recorded.items()), np.zeros(C, np.float32))
            ev = sum((np.sqrt(w[style_ids.index(k)]) * v[1] for k, v in recorded.items()), np.zeros(C, np.float32))
            g = 10 ** (rng.uniform(-8, 4) / 20)
            xs.append(x * g)
            ts.append(t * g)
            ss.append(w)
            txs.append(tex)
            evs.append(ev)
        x = torch.from_numpy(np.stack(xs))
        t = torch.from_numpy(np.stack(ts))
        s = torch.from_numpy(np.stack(ss))
        tx = torch.from_numpy(np.stack(txs))
        ev = torch.from_numpy(np.stack(evs))
        n = torch.randn_like(x)
        y = model(x, s, n, tx, ev)
        if teacher is None:
            loss = crit(y, t)
        else:  # distillation: the teacher's output for the same inputs, noise included, and some of the targets
            with torch.no_grad():
                yt = teacher(x, s, n, tx, ev)
            loss = crit(y, yt) + a.target_weight * crit(y, t)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        run.append(loss.item())
        step += 1
        if step % 25 == 0:
            print(f"step {step} loss {np.mean(run[-25:]):.4f} lr {opt.param_groups[0]['lr']:.2e} "
                  f"t {time.time() - t0:.0f}s", flush=True)
        if step % 200 == 0:
            save_checkpoint()
    train_s = time.time() - t0
    save_checkpoint()
    onnx_path = os.path.join(MODELS, "enricher.onnx")
    export_onnx(model, onnx_path)
    write_manifest(style_ids, WINDOW, OVERLAP, {
        "version": a.version,
        "training": {"steps": step, "seconds": round(train_s), "finalLoss": round(float(np.mean(run[-100:])), 4),
                     "corpus": f"{P} pieces x {L / SR:.0f} s (MIDI) + banks of real recordings for {len(banks)} styles",
                     "seed": a.seed, **({"distilledFrom": os.path.basename(a.teacher)} if a.teacher else {})},
    }, bank_index(a.banks))
    print(f"trained {step} steps in {train_s:.0f}s; exported {onnx_path} ({os.path.getsize(onnx_path)} bytes)")


if __name__ == "__main__":
    main()
