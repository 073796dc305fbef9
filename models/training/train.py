"""Train EnricherNet v2, export models/enricher.onnx and models/manifest.json.

Corpus: build/train2.npz (dry MIDI music + the MIDI/procedural layers of the styles without a texture
loop: blues, hip-hop, metal, piano, tape, plus the v1.5 crackle part of vinyl) and the shipped texture
loops models/textures/*.wav. The `texture` input is built exactly as the engine builds it (the shipped
loop as int16/32768, a random start per style, sqrt(weight) for mixes) and the target of a texture style
is that same loop segment times a phrase-level gain of the music (targets.py).
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
from enricher_net import (EnricherNet, export_onnx, load_weights, mel_filterbank, SR, WINDOW, OVERLAP,  # noqa: E402
                          MARGIN, HOP)
from styles import STYLES, DEFAULT_STYLE, CREDITS, LICENSES  # noqa: E402
import targets  # noqa: E402

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


def write_manifest(style_ids, window, overlap, extra, textures=()):
    styles = []
    for i, sid in enumerate(style_ids):
        st = next(s for s in STYLES if s["id"] == sid)
        d = dict(id=sid, label=st["label"], kind=st["kind"], description=st["description"], index=i)
        if sid in textures:
            d["texture"] = f"textures/{sid}.wav"
            if sid in CREDITS:
                d["credit"] = CREDITS[sid]
                d["license"] = LICENSES[sid]
        styles.append(d)
    man = {
        "version": extra.pop("version", "2.0.0"),
        "sampleRate": SR,
        "defaultStyle": DEFAULT_STYLE if DEFAULT_STYLE in style_ids else style_ids[0],
        "model": {"file": "enricher.onnx",
                  "inputs": {"audio": "audio", "style": "style", "noise": "noise", "texture": "texture"},
                  "output": "wet", "window": window, "overlap": overlap, "channels": 1,
                  "defaultAmount": 0.5, "margin": MARGIN},
        "styles": styles,
    }
    man.update(extra)
    with open(os.path.join(MODELS, "manifest.json"), "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")


def load_bank(style_ids):
    """The shipped loops, read as the engine reads them: int16 / 32768, no other scaling."""
    from scipy.io import wavfile
    bank = {}
    for sid in style_ids:
        path = os.path.join(MODELS, "textures", f"{sid}.wav")
        if os.path.exists(path):
            sr, pcm = wavfile.read(path)
            assert sr == SR and pcm.dtype == np.int16 and pcm.ndim == 1, path
            bank[sid] = pcm.astype(np.float32) / 32768.0
    return bank


def read_loop(loop, off, n):
    return loop[(off + np.arange(n)) % len(loop)]


def prepare(dry, wet, corpus_ids, style_ids, bank, seed):
    """Per piece: gain curves (per frame) of every texture style and the thunder-event layer."""
    import textures
    rng = np.random.RandomState(seed)
    clips = targets.thunder_clips([textures.decode(p).astype(np.float32)
                                   for p, _, _ in textures.BANK["thunderstorm"]["events"]])
    tex_k = {sid: targets.kloud_db(bank[sid]) for sid in bank}
    P = dry.shape[0]
    gains = {}
    events = np.zeros(dry.shape, np.float16)
    for p in range(P):
        x = dry[p].astype(np.float64)
        for sid in bank:
            g_db, lp = targets.gain_curve_db(x, sid)
            # amplitude on the loop: music loudness + gain, over the loop's own K-weighted loudness
            gains.setdefault(sid, []).append((10 ** ((g_db + lp - tex_k[sid]) / 20)).astype(np.float32))
        if "thunderstorm" in bank:
            events[p] = targets.thunder_events(x, lp, clips, rng).astype(np.float16)
    gains = {k: np.stack(v) for k, v in gains.items()}
    return gains, events


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
    ap.add_argument("--init", default="", help="warm start from a checkpoint (.pt) or ONNX file (missing layers stay fresh)")
    ap.add_argument("--version", default="2.0.0")
    ap.add_argument("--texture-loss", type=int, default=1)
    ap.add_argument("--energy-weight", type=float, default=2.0)
    ap.add_argument("--oversample", default="", help="id=factor,... sample some styles more often")
    ap.add_argument("--sort-weight", type=float, default=1.0)
    ap.add_argument("--level-weight", type=float, default=1.0)
    ap.add_argument("--flux-weight", type=float, default=1.0)
    ap.add_argument("--vinyl-crackle", type=float, default=0.7, help="share of the v1.5 crackle layer in vinyl")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.RandomState(a.seed)
    d = np.load(a.data)
    dry, wet = d["dry"], d["wet"]
    corpus_ids = [str(s) for s in d["styles"]]
    style_ids = [s["id"] for s in STYLES]
    S = len(style_ids)
    bank = load_bank(style_ids)
    P, L = dry.shape
    t0 = time.time()
    gains, events = prepare(dry, wet, corpus_ids, style_ids, bank, a.seed)
    print(f"data: {P} pieces, {L / SR:.1f}s each; corpus layers {corpus_ids}; texture loops "
          f"{ {k: round(len(v) / SR, 1) for k, v in bank.items()} }; targets prepared in {time.time() - t0:.0f}s",
          flush=True)
    model = EnricherNet(S)
    if a.resume and os.path.exists(a.ckpt):
        load_weights(model, torch.load(a.ckpt)["model"])
        print("resumed", a.ckpt)
    elif a.init:
        if a.init.endswith(".onnx"):
            from onnx_weights import read_initializers
            src = {k: torch.from_numpy(v) for k, v in read_initializers(a.init).items()}
        else:
            src = torch.load(a.init)["model"]
        own = model.state_dict()
        for k, v in src.items():
            if k in own and own[k].shape == v.shape:
                own[k] = v
            elif k in own and v.dim() == own[k].dim():  # grown input layer: copy the old slice
                own[k].zero_()
                own[k][tuple(slice(0, n) for n in v.shape)] = v
                print("partially loaded", k, tuple(v.shape), "->", tuple(own[k].shape))
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

    def layer(sid, p, o, offs):
        """Target layer of one style for piece p at sample offset o, given the loop starts offs."""
        t = np.zeros(C, np.float32)
        if sid in bank:
            g = gains[sid][p]
            f0 = o / HOP
            amp = np.interp(f0 + fr, np.arange(len(g)), g).astype(np.float32)
            t += amp * read_loop(bank[sid], offs[sid], C)
            if sid == "thunderstorm":
                t += events[p, o:o + C].astype(np.float32)
        if sid in corpus_ids:
            k = a.vinyl_crackle if sid == "vinyl" else 1.0
            t += k * wet[p, corpus_ids.index(sid), o:o + C].astype(np.float32)
        return t

    while step < a.steps and time.time() - t0 < total_s:
        frac = max((time.time() - t0) / total_s, step / a.steps)
        for g in opt.param_groups:
            g["lr"] = a.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0))))
        xs, ts, ss, txs = [], [], [], []
        for _ in range(a.batch):
            p = rng.randint(P)
            o = rng.randint(L - C)
            x = dry[p, o:o + C].astype(np.float32)
            offs = {sid: rng.randint(len(v)) for sid, v in bank.items()}
            s = rng.choice(S, p=pick) if a.oversample else rng.randint(S)
            w = eye[s]
            t = layer(style_ids[s], p, o, offs)
            if rng.rand() < a.mix_prob:
                s2 = (s + 1 + rng.randint(S - 1)) % S
                lam = rng.uniform(0.25, 0.75)
                w = lam * eye[s] + (1 - lam) * eye[s2]
                t = lam * t + (1 - lam) * layer(style_ids[s2], p, o, offs)
            tex = np.zeros(C, np.float32)
            for sid, loop in bank.items():  # exactly the engine's texture input
                wi = w[style_ids.index(sid)]
                if wi > 0:
                    tex += np.sqrt(wi) * read_loop(loop, offs[sid], C)
            g = 10 ** (rng.uniform(-8, 4) / 20)
            xs.append(x * g)
            ts.append(t * g)
            ss.append(w)
            txs.append(tex)
        x = torch.from_numpy(np.stack(xs))
        t = torch.from_numpy(np.stack(ts))
        s = torch.from_numpy(np.stack(ss))
        tx = torch.from_numpy(np.stack(txs))
        n = torch.randn_like(x)
        y = model(x, s, n, tx)
        loss = crit(y, t)
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
            torch.save({"model": model.state_dict(), "styles": style_ids, "step": step}, a.ckpt)
    train_s = time.time() - t0
    torch.save({"model": model.state_dict(), "styles": style_ids, "step": step}, a.ckpt)
    onnx_path = os.path.join(MODELS, "enricher.onnx")
    export_onnx(model, onnx_path)
    write_manifest(style_ids, WINDOW, OVERLAP, {
        "version": a.version,
        "training": {"steps": step, "seconds": round(train_s), "finalLoss": round(float(np.mean(run[-100:])), 4),
                     "corpus": f"{P} pieces x {L / SR:.0f} s (MIDI) + {len(bank)} recorded texture loops", "seed": a.seed},
    }, textures=bank)
    print(f"trained {step} steps in {train_s:.0f}s; exported {onnx_path} ({os.path.getsize(onnx_path)} bytes)")


if __name__ == "__main__":
    main()
