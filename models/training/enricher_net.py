"""The Noise Enricher network: one conditional spectral generator for every style.

Graph of v4 (LiteEnricherNet, shipped; everything below is exported to ONNX, opset 17):

    audio [B,N] --fixed STFT (FFT, n_fft 512, hop 256, sqrt-Hann)--> X [B,257,T]
        -> log-mel shape + smoothed loudness and phrase features
        -> frame conv net (dilated residual blocks, FiLM-conditioned on the
           weighted style embedding  e = style @ E)
        -> two heads per frame and bin:
             music mask    m    (re-voices the music's own partials, keeps its phase)
             noise gain    g_n  (applied to the spectrum N of the engine's Gaussian noise)
        -> four broadband heads per frame (spread over the samples between frame centres):
             bed t, events v, drive d (tanh-driven music: new harmonics), clicks c (a sparse click train)
    wet = ISTFT(m * X + P * g_n * N) + P / TEX_RMS * (t * texture + v * events) + d * driven + P * c * clicks

v3 (EnricherNet, up to v3.3.0 and v4's distillation teacher) gave the drive, the clicks and the bed their own
STFTs and a gain per bin each: Y = m*X + d*D + P*(g_n*N + g_c*K + g_t*T/TEX_RMS), wet = ISTFT(Y) + P/TEX_RMS*v*events.

P is the music's phrase loudness (2 s), so the added layers follow phrases rather than beats. Spectra are
kept as the FFT's (even, odd) bin halves throughout (see FixedSTFT).

The noise input is the only randomness: its samples are read directly as the
real/imaginary parts of the noise spectrum (a white Gaussian signal has i.i.d.
Gaussian STFT coefficients), which saves one analysis transform per window. The
click train keeps only the noise samples beyond CLICK_SIGMA (about 120 random
impulses a second): smooth gains over Gaussian noise can only make hiss, and
crackle, drops and sparks need sound that is mostly silence.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SR = 44100
N_FFT = 512
HOP = 256
N_BINS = N_FFT // 2 + 1
N_MELS = 48
WINDOW, OVERLAP = 131072, 40960  # what the manifest tells the engine: samples per model call (2.97 s), overlap
# The engine drops MARGIN samples at each inner window edge and fades over the rest of the overlap: the net's
# context (±0.37 s) ends in zero padding at a window's edge, which it reads as a pause in the music (v2 boosted
# birds there: +8.4 dB at every border with a plain 16384-sample fade, within noise with this margin).
MARGIN = 16384
TEX_RMS = 0.1  # RMS of every texture loop in models/textures/*.wav (read by the engine as int16/32768)
PHRASE_FRAMES = (129, 345)  # ~0.75 s and ~2 s loudness windows (frames of HOP samples): the phrase scale
N_RAND = 8  # per-frame random inputs taken from the noise, so the net can place clicks/drops/chirps
CLICK_SIGMA = 3.0
CLICK_RMS = 0.1711  # RMS of x * (|x| > 3) for standard Gaussian x: scales the click train to unit variance


def mel_filterbank(sr, n_fft, n_mels, fmin=30.0, fmax=None):
    fmax = fmax or sr / 2
    def hz2mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)
    def mel2hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)
    mels = np.linspace(hz2mel(fmin), hz2mel(fmax), n_mels + 2)
    hz = mel2hz(mels)
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    fb = np.zeros((n_mels, len(bins)), dtype=np.float32)
    for i in range(n_mels):
        lo, c, hi = hz[i], hz[i + 1], hz[i + 2]
        up = (bins - lo) / max(c - lo, 1e-6)
        down = (hi - bins) / max(hi - c, 1e-6)
        fb[i] = np.maximum(0.0, np.minimum(up, down))
    # bands narrower than one bin would be empty: give them their nearest bin
    for i in range(n_mels):
        if fb[i].sum() == 0:
            fb[i, int(np.argmin(np.abs(bins - hz[i + 1])))] = 1.0
    fb /= fb.sum(axis=1, keepdims=True)
    return fb


def _window():
    n = np.arange(N_FFT)
    return np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT))


# The transforms are one radix-2 step of a Cooley-Tukey FFT followed by dense 256-point DFTs, each one
# MatMul over all frames (ORT runs those as plain GEMMs). With HOP = N_FFT/2 a frame is two consecutive
# blocks lo, hi, and for bin k the hi block carries the factor (-1)^k:
#     X[2m]   = DFT256(lo + hi)[m]                       (even bins: a 256-point real DFT)
#     X[2m+1] = DFT256((lo - hi) * e^{-2 pi i n/512})[m] (odd bins: the same with a twiddle)
# so each block goes through 2 x 256 rows instead of 514 x 512 - half the multiply-adds, and no frame is read
# twice. ORT's own STFT/DFT kernels were measured 5x slower than this (models/README.md).
BLOCK = N_FFT // 2
EVEN = np.arange(0, N_BINS, 2)   # 129 even bins
ODD = np.arange(1, N_BINS, 2)    # 128 odd bins


def _half_dft(bins, scale=None):
    """cos/sin rows of the 512-point DFT restricted to `bins`, over the first 256 samples: [2*len(bins), 256]."""
    n = np.arange(BLOCK)[None, :]
    ang = 2 * np.pi * bins[:, None] * n / N_FFT
    s = np.ones((len(bins), 1)) if scale is None else scale[:, None]
    return np.concatenate([s * np.cos(ang), -s * np.sin(ang)], 0)


def _blocks(x):
    """[B, (T+1)*BLOCK] -> [B, T+1, BLOCK]."""
    return x.reshape(x.shape[0], -1, BLOCK)


class FixedSTFT(nn.Module):
    """STFT (n_fft 512, hop 256, sqrt-Hann, centred with HOP zeros each side) of [B,N], T = N/HOP + 1 frames.
    Returns the spectrum as the two GEMMs leave it, a pair (even, odd): bins 0, 2, .., 256 as [B, 2*129, T]
    and bins 1, 3, .., 255 as [B, 2*128, T], real rows then imaginary rows. The network works on the pair
    as it is, so no bins are ever shuffled back into natural order."""

    def __init__(self):
        super().__init__()
        w = _window().astype(np.float32)
        self.register_buffer("w_lo", torch.from_numpy(w[:BLOCK]), persistent=False)
        self.register_buffer("w_hi", torch.from_numpy(w[BLOCK:]), persistent=False)
        self.register_buffer("k_even", torch.from_numpy(_half_dft(EVEN).astype(np.float32)), persistent=False)
        self.register_buffer("k_odd", torch.from_numpy(_half_dft(ODD).astype(np.float32)), persistent=False)

    def forward(self, x):
        blocks = _blocks(F.pad(x, (HOP, HOP)))
        lo, hi = blocks[:, :-1] * self.w_lo, blocks[:, 1:] * self.w_hi
        return (torch.matmul(self.k_even, (lo + hi).transpose(1, 2)),
                torch.matmul(self.k_odd, (lo - hi).transpose(1, 2)))


class FixedISTFT(nn.Module):
    """Inverse of FixedSTFT (sqrt-Hann^2 at 50 % overlap sums to 1): (even, odd) over T frames -> [B, (T-1)*HOP].
    Frame t is w * (E + O) on its lo block and w * (E - O) on its hi block, where E and O are the even- and
    odd-bin halves of the inverse DFT, each one GEMM over all frames."""

    def __init__(self):
        super().__init__()
        w = _window().astype(np.float32)
        self.register_buffer("w_lo", torch.from_numpy(w[:BLOCK]), persistent=False)
        self.register_buffer("w_hi", torch.from_numpy(w[BLOCK:]), persistent=False)
        # Bins other than DC and Nyquist stand for their mirrored twin too, so they count twice.
        c = np.full(N_BINS, 2.0)
        c[0] = c[-1] = 1.0
        k_even, k_odd = _half_dft(EVEN, c[EVEN]) / N_FFT, _half_dft(ODD, c[ODD]) / N_FFT
        self.register_buffer("k_even", torch.from_numpy(k_even.astype(np.float32)), persistent=False)
        self.register_buffer("k_odd", torch.from_numpy(k_odd.astype(np.float32)), persistent=False)

    def forward(self, even, odd):
        e = torch.matmul(even.transpose(1, 2), self.k_even)  # [B, T, 256]
        o = torch.matmul(odd.transpose(1, 2), self.k_odd)
        lo, hi = (e + o) * self.w_lo, (e - o) * self.w_hi
        y = F.pad(lo, (0, 0, 0, 1)) + F.pad(hi, (0, 0, 1, 0))  # overlap-add: block j = lo of j + hi of j-1
        return y.reshape(even.shape[0], -1)[:, HOP:-HOP]


class BinHead(nn.Conv1d):
    """A 1x1 conv with one output per frequency bin. The weights keep natural bin order (checkpoints stay
    compatible); the output is the (even, odd) pair the transforms use. The split folds into the exported
    weights."""

    def __init__(self, ch, bias):
        super().__init__(ch, N_BINS, 1)
        nn.init.zeros_(self.weight)
        nn.init.constant_(self.bias, bias)
        self.register_buffer("even", torch.from_numpy(EVEN), persistent=False)
        self.register_buffer("odd", torch.from_numpy(ODD), persistent=False)

    def forward(self, h):
        return tuple(F.conv1d(h, self.weight.index_select(0, i), self.bias.index_select(0, i))
                     for i in (self.even, self.odd))


def power_spectrum(spec):
    """|X|^2 of a half spectrum [B, 2*n, T] -> [B, n, T] (two slices, not a ReduceSum: ORT's is slower)."""
    n = spec.shape[1] // 2
    re, im = spec[:, :n], spec[:, n:]
    return re * re + im * im


class Block(nn.Module):
    def __init__(self, ch, emb, dilation):
        super().__init__()
        self.film = nn.Linear(emb, 2 * ch)
        self.conv = nn.Conv1d(ch, ch, 3, padding=dilation, dilation=dilation)
        self.mix = nn.Conv1d(ch, ch, 1)

    def forward(self, h, e):
        g, b = self.film(e).unsqueeze(-1).chunk(2, dim=1)
        z = F.leaky_relu(h * (1 + g) + b, 0.1)
        z = F.leaky_relu(self.conv(z), 0.1)
        return h + self.mix(z)


class FrameNet(nn.Module):
    """What every generation of the network shares: the music's analysis, the FiLM frame network, the music
    mask and the noise gain (per bin), and the drive that makes harmonics. Subclasses add their other heads
    and the synthesis."""

    def __init__(self, n_styles, ch, emb, dilations):
        super().__init__()
        self.n_styles = n_styles
        self.stft = FixedSTFT()
        self.istft = FixedISTFT()
        mel = torch.from_numpy(mel_filterbank(SR, N_FFT, N_MELS))
        self.register_buffer("mel_even", mel[:, EVEN].contiguous(), persistent=False)
        self.register_buffer("mel_odd", mel[:, ODD].contiguous(), persistent=False)
        # rows of the noise spectrum, read from the noise frames plus one zero row (index HOP): bin k's real
        # part is frame row k, its imaginary part row perm[k]; the Nyquist bin (k = HOP) is zero
        perm = np.append(np.random.RandomState(1234).permutation(HOP), HOP)
        rows = np.arange(HOP + 1)
        for name, bins in (("noise_even", EVEN), ("noise_odd", ODD)):
            self.register_buffer(name, torch.from_numpy(np.concatenate([rows[bins], perm[bins]])), persistent=False)
        self.style_emb = nn.Parameter(torch.randn(n_styles, emb) * 0.5)
        self.inp = nn.Conv1d(N_MELS + 3 + N_RAND + 3, ch, 3, padding=1)
        self.inp_e = nn.Linear(emb, ch)
        self.blocks = nn.ModuleList([Block(ch, emb, d) for d in dilations])
        self.head_noise = BinHead(ch, -2.0)
        self.head_music = BinHead(ch, -3.0)
        self.drive = nn.Parameter(torch.tensor(2.0))
        tri = 1.0 - np.abs(np.arange(N_FFT) - (N_FFT - 1) / 2) / (N_FFT / 2)
        # linear interpolation of a per-frame value across the block between two frame centres
        self.register_buffer("tri_lo", torch.from_numpy(tri[:BLOCK].astype(np.float32)), persistent=False)
        self.register_buffer("tri_hi", torch.from_numpy(tri[BLOCK:].astype(np.float32)), persistent=False)

    def noise_spectrum(self, noise):
        b = noise.shape[0]
        frames = noise.reshape(b, -1, HOP).transpose(1, 2)  # [B,256,N/256]
        frames = F.pad(frames, (0, 1, 0, 1))  # one more frame (T = N/256 + 1) and the zero row
        # independent frames overlap-added with sqrt-Hann keep half the variance: N_FFT/2 gives unit variance out
        scale = math.sqrt(N_FFT / 2)
        return (torch.index_select(frames, 1, self.noise_even) * scale,
                torch.index_select(frames, 1, self.noise_odd) * scale)

    def per_sample(self, frames):
        """A per-frame value [B,1,T] spread linearly over the samples between frame centres: [B,N]."""
        return (frames[:, 0, 1:, None] * self.tri_lo + frames[:, 0, :-1, None] * self.tri_hi).reshape(frames.shape[0], -1)

    def driven(self, audio, env):
        """The harmonic source: the music through a level-normalised tanh (guitar-amp style), which holds
        partials the music does not have (distortion, octaves, intermodulation)."""
        env_t = self.per_sample(env)
        return torch.tanh(self.drive * audio / (env_t + 1e-4)) * env_t

    @staticmethod
    def clicks(noise):
        """The click train: the noise samples beyond CLICK_SIGMA, scaled to unit variance."""
        return noise * (noise.abs() > CLICK_SIGMA).to(noise.dtype) / CLICK_RMS

    def analyse(self, audio, noise):
        """The music's spectrum and what the frame network reads: (spec, features [B, F, T], 50 ms envelope,
        2 s phrase loudness), both loudness curves [B, 1, T]."""
        spec = self.stft(audio)
        pow_even, pow_odd = power_spectrum(spec[0]), power_spectrum(spec[1])
        power_sum = pow_even.sum(1, keepdim=True) + pow_odd.sum(1, keepdim=True)
        frame_pow = power_sum / (N_BINS * N_FFT / 2)  # ~ signal variance per frame
        env_pow = F.avg_pool1d(frame_pow, 9, stride=1, padding=4, count_include_pad=False)
        slow_pow = F.avg_pool1d(frame_pow, 33, stride=1, padding=16, count_include_pad=False)
        env = torch.sqrt(env_pow + 1e-10)
        melp = (torch.matmul(self.mel_even, pow_even) + torch.matmul(self.mel_odd, pow_odd)) / (N_FFT / 2)
        log_env = torch.log(env_pow + 1e-8)
        k1, k2 = PHRASE_FRAMES
        ph1 = F.avg_pool1d(frame_pow, k1, stride=1, padding=k1 // 2, count_include_pad=False)
        ph2 = F.avg_pool1d(frame_pow, k2, stride=1, padding=k2 // 2, count_include_pad=False)
        phrase = torch.sqrt(ph2 + 1e-10)  # the phrase-level loudness every added layer is scaled by
        feats = torch.cat([
            torch.log(melp + 1e-8) - log_env,          # spectral shape, level free
            0.25 * log_env,                            # absolute level (quiet gating)
            torch.log(frame_pow + 1e-8) - log_env,    # transients
            torch.log(slow_pow + 1e-8) - log_env,     # swell
        ], 1) * 0.25
        phrase_feats = torch.cat([
            torch.log(ph1 + 1e-8) - log_env,          # phrase (0.75 s) vs now: accents, phrase ends
            torch.log(ph2 + 1e-8) - log_env,          # phrase (2 s) vs now
            0.25 * torch.log(ph2 + 1e-8),             # phrase level
        ], 1) * 0.25
        b = noise.shape[0]
        rand = F.pad(noise.reshape(b, -1, HOP).transpose(1, 2)[:, :N_RAND], (0, 1))
        feats = torch.cat([feats, rand, phrase_feats], 1)  # v2 features last: v1.5 weights keep their slots
        return spec, feats, env, phrase

    def trunk(self, feats, style):
        e = torch.matmul(style, self.style_emb)  # weighted style embedding: the mix happens here
        h = self.inp(feats) + self.inp_e(e).unsqueeze(-1)
        for blk in self.blocks:
            h = blk(h, e)
        return F.leaky_relu(h, 0.1)


def gains(head, h, top, scale=None):
    """A bin head's (even, odd) log-gains -> gains, bounded above by e^top, times an optional per-frame scale."""
    out = (torch.exp(torch.clamp(x, -15.0, top)) for x in head(h))
    return tuple(out if scale is None else (g * scale for g in out))


def apply_gains(terms, b):
    """Sum of gain x spectrum over the terms, per (even, odd) half: every gain applies to a bin's real and
    imaginary part alike, [B,n,T] against [B,2,n,T]."""
    halves = []
    for half in (0, 1):
        out = None
        for g, sp in terms:
            g = g[half]
            y = g.unsqueeze(1) * sp[half].reshape(b, 2, g.shape[1], -1)
            out = y if out is None else out + y
        halves.append(out.reshape(b, -1, out.shape[3]))
    return halves


class EnricherNet(FrameNet):
    """v2/v3 (up to v3.3.0): five spectral paths, each with its own gain per bin and frame."""

    def __init__(self, n_styles, ch=96, emb=64, dilations=(1, 2, 4, 8, 16, 32, 1)):
        super().__init__(n_styles, ch, emb, dilations)
        self.head_click = BinHead(ch, -4.0)
        self.head_drive = BinHead(ch, -3.0)
        self.head_tex = BinHead(ch, -2.0)
        # v3: one broadband gain per frame for the event track (thunder, breaking waves, calls, pops): the net
        # lets an event through where the music makes room for it and holds it back where it does not
        self.head_event = nn.Conv1d(ch, 1, 1)
        nn.init.zeros_(self.head_event.weight)
        nn.init.constant_(self.head_event.bias, -1.0)

    def forward(self, audio, style, noise, texture, events):
        spec, feats, env, phrase = self.analyse(audio, noise)
        h = self.trunk(feats, style)
        # v2: the excitations are scaled by the phrase loudness (2 s), not the 50 ms envelope, so the
        # layers no longer pump per beat; the heads may still follow beats where a style asks for it
        g_noise = gains(self.head_noise, h, 4.0, phrase)
        g_click = gains(self.head_click, h, 4.0, phrase)
        g_tex = gains(self.head_tex, h, 4.0, phrase / TEX_RMS)
        m_music = gains(self.head_music, h, 2.0)
        m_drive = gains(self.head_drive, h, 2.0)
        dspec = self.stft(self.driven(audio, env))
        nspec = self.noise_spectrum(noise)
        kspec = self.stft(self.clicks(noise))
        tspec = self.stft(texture)
        terms = ((m_music, spec), (m_drive, dspec), (g_noise, nspec), (g_click, kspec), (g_tex, tspec))
        g_event = torch.exp(torch.clamp(self.head_event(h), -15.0, 3.0)) * (phrase / TEX_RMS)
        return self.istft(*apply_gains(terms, noise.shape[0])) + self.per_sample(g_event) * events


class LiteEnricherNet(FrameNet):
    """v4: two transforms instead of five. The music mask and the noise gain stay per bin; the texture
    (bed), the events, the driven music and the clicks each get one broadband gain per frame and are added
    in the time domain, with no transform of their own. The targets of the recorded styles are a broadband
    gain of the bed and events (targets.py), so nothing they ask for is lost; the drive and the clicks lose
    their own spectral shaping. Distilled from v3.3.0 (train.py --teacher)."""

    FRAME_HEADS = (("tex", -2.0, 4.0), ("event", -1.0, 3.0), ("drive", -3.0, 2.0), ("click", -4.0, 4.0))

    def __init__(self, n_styles, ch=40, emb=64, dilations=(1, 2, 4, 8, 16, 32)):
        super().__init__(n_styles, ch, emb, dilations)
        k = len(self.FRAME_HEADS)
        self.head_frame = nn.Conv1d(ch, k, 1)
        nn.init.zeros_(self.head_frame.weight)
        with torch.no_grad():
            self.head_frame.bias.copy_(torch.tensor([b for _, b, _ in self.FRAME_HEADS]))
        self.register_buffer("frame_top", torch.tensor([[t] for _, _, t in self.FRAME_HEADS]), persistent=False)

    def forward(self, audio, style, noise, texture, events):
        spec, feats, env, phrase = self.analyse(audio, noise)
        h = self.trunk(feats, style)
        b = noise.shape[0]
        g_noise = gains(self.head_noise, h, 4.0, phrase)
        m_music = gains(self.head_music, h, 2.0)
        halves = apply_gains(((m_music, spec), (g_noise, self.noise_spectrum(noise))), b)
        # per-frame gains [B,4,T]: the bed and the events scaled as v3 scaled them, the clicks by the phrase
        f = torch.exp(torch.minimum(torch.clamp(self.head_frame(h), min=-15.0), self.frame_top))
        tex, event, drive, click = (f[:, i:i + 1] for i in range(f.shape[1]))
        added = (self.per_sample(tex * (phrase / TEX_RMS)) * texture
                 + self.per_sample(event * (phrase / TEX_RMS)) * events
                 + self.per_sample(drive) * self.driven(audio, env)
                 + self.per_sample(click * phrase) * self.clicks(noise))
        return self.istft(*halves) + added


def load_weights(model, state):
    """Loads a checkpoint's trained parameters. Buffers are fixed (transforms, filterbank, index tables) and
    built by the constructor; checkpoints before v2.2.0 also hold the old dense DFT kernels, which are ignored."""
    params = dict(model.named_parameters())
    missing = [k for k in params if k not in state]
    if missing:
        raise KeyError(f"checkpoint does not fit {type(model).__name__}: missing {missing}")
    with torch.no_grad():
        for k, p in params.items():
            p.copy_(state[k])
    return model


def from_checkpoint(st):
    """The network a checkpoint holds, with its weights: v4 checkpoints record their architecture and width,
    older ones are all EnricherNet."""
    n = len(st["styles"])
    if st.get("arch") == "lite":
        model = LiteEnricherNet(n, ch=st["channels"]) if st.get("channels") else LiteEnricherNet(n)
    else:
        model = EnricherNet(n)
    return load_weights(model, st["model"])


def export_onnx(model, path, window=WINDOW):
    model = model.eval()
    s = model.n_styles
    audio = torch.zeros(1, window)
    style = torch.full((1, s), 1.0 / s)
    noise = torch.randn(1, window)
    texture = torch.randn(1, window) * TEX_RMS
    events = torch.randn(1, window) * TEX_RMS
    torch.onnx.export(
        model, (audio, style, noise, texture, events), path, opset_version=17,
        input_names=["audio", "style", "noise", "texture", "events"], output_names=["wet"],
        dynamic_axes={"audio": {0: "B", 1: "N"}, "style": {0: "B"}, "noise": {0: "B", 1: "N"},
                      "texture": {0: "B", 1: "N"}, "events": {0: "B", 1: "N"}, "wet": {0: "B", 1: "N"}},
        do_constant_folding=True,
    )
