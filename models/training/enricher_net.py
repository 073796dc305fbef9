"""The Noise Enricher network: one conditional spectral generator for every style.

Graph (everything below is exported to ONNX, opset 17):

    audio [B,N] --fixed STFT conv (n_fft 512, hop 256, sqrt-Hann)--> X [B,257,T]
        -> log-mel shape + smoothed loudness features
        -> frame conv net (dilated residual blocks, FiLM-conditioned on the
           weighted style embedding  e = style @ E)
        -> four heads per frame and bin:
             noise gain  g_n  (applied to the spectrum of the engine's Gaussian noise,
                               scaled by the music's local loudness)
             click gain  g_c  (applied to the spectrum K of a sparse click train, same scaling)
             music mask  m    (re-voices the music's own partials, keeps its phase)
             drive mask  d    (shapes the spectrum D of tanh-driven music: new harmonics)
    Y = m * X + d * D + env * (g_n * N + g_c * K)   --fixed ISTFT conv-transpose-->  wet [B,N]

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


def _dft_kernel(row_scale, divisor):
    """Windowed DFT rows as conv weights [2*N_BINS, 1, N_FFT]: real rows, then imaginary rows."""
    w = _window()
    k = np.arange(N_BINS)[:, None]
    n = np.arange(N_FFT)[None, :]
    ang = 2 * np.pi * k * n / N_FFT
    kern = np.concatenate([row_scale * np.cos(ang) * w, -row_scale * np.sin(ang) * w], 0) / divisor
    return torch.from_numpy(kern.astype(np.float32)[:, None, :])


class FixedSTFT(nn.Module):
    """STFT as a strided Conv1d with fixed DFT kernels (real rows then imaginary rows)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("kernel", _dft_kernel(np.ones((N_BINS, 1)), 1))

    def forward(self, x):  # x [B,N] -> [B, 2*257, N/HOP + 1]
        x = F.pad(x.unsqueeze(1), (HOP, HOP))
        return F.conv1d(x, self.kernel, stride=HOP)


class FixedISTFT(nn.Module):
    """Inverse of FixedSTFT: ConvTranspose1d with fixed kernels; sqrt-Hann^2 at 50 % overlap sums to 1."""

    def __init__(self):
        super().__init__()
        # Bins other than DC and Nyquist stand for their mirrored twin too, so they count twice.
        c = np.full((N_BINS, 1), 2.0)
        c[0] = c[-1] = 1.0
        self.register_buffer("kernel", _dft_kernel(c, N_FFT))

    def forward(self, spec):  # [B, 514, T] -> [B, (T-1)*HOP]
        y = F.conv_transpose1d(spec, self.kernel, stride=HOP)
        return y[:, 0, HOP:-HOP]


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


class EnricherNet(nn.Module):
    def __init__(self, n_styles, ch=96, emb=64, dilations=(1, 2, 4, 8, 16, 32, 1)):
        super().__init__()
        self.n_styles = n_styles
        self.stft = FixedSTFT()
        self.istft = FixedISTFT()
        self.register_buffer("mel", torch.from_numpy(mel_filterbank(SR, N_FFT, N_MELS)))
        perm = np.random.RandomState(1234).permutation(HOP)
        self.register_buffer("perm", torch.from_numpy(perm.astype(np.int64)))
        self.style_emb = nn.Parameter(torch.randn(n_styles, emb) * 0.5)
        self.inp = nn.Conv1d(N_MELS + 3 + N_RAND + 3, ch, 3, padding=1)
        self.inp_e = nn.Linear(emb, ch)
        self.blocks = nn.ModuleList([Block(ch, emb, d) for d in dilations])
        self.head_noise = nn.Conv1d(ch, N_BINS, 1)
        self.head_click = nn.Conv1d(ch, N_BINS, 1)
        self.head_music = nn.Conv1d(ch, N_BINS, 1)
        self.head_drive = nn.Conv1d(ch, N_BINS, 1)
        self.head_tex = nn.Conv1d(ch, N_BINS, 1)
        self.drive = nn.Parameter(torch.tensor(2.0))
        tri = 1.0 - np.abs(np.arange(N_FFT) - (N_FFT - 1) / 2) / (N_FFT / 2)
        self.register_buffer("upsample", torch.from_numpy(tri.astype(np.float32))[None, None, :])
        nn.init.zeros_(self.head_noise.weight)
        nn.init.constant_(self.head_noise.bias, -2.0)
        nn.init.zeros_(self.head_click.weight)
        nn.init.constant_(self.head_click.bias, -4.0)
        nn.init.zeros_(self.head_music.weight)
        nn.init.constant_(self.head_music.bias, -3.0)
        nn.init.zeros_(self.head_drive.weight)
        nn.init.constant_(self.head_drive.bias, -3.0)
        nn.init.zeros_(self.head_tex.weight)
        nn.init.constant_(self.head_tex.bias, -2.0)

    def noise_spectrum(self, noise):
        b = noise.shape[0]
        frames = noise.reshape(b, -1, HOP).transpose(1, 2)  # [B,256,N/256]
        frames = F.pad(frames, (0, 1))  # one more frame: T = N/256 + 1
        re = F.pad(frames, (0, 0, 0, 1))  # Nyquist bin real part = 0
        im = F.pad(torch.index_select(frames, 1, self.perm), (0, 0, 0, 1))
        # independent frames overlap-added with sqrt-Hann keep half the variance: N_FFT/2 gives unit variance out
        return torch.cat([re, im], 1) * math.sqrt(N_FFT / 2)

    def forward(self, audio, style, noise, texture):
        spec = self.stft(audio)
        re, im = spec[:, :N_BINS], spec[:, N_BINS:]
        power = re * re + im * im
        frame_pow = power.mean(1, keepdim=True) / (N_FFT / 2)  # ~ signal variance per frame
        env_pow = F.avg_pool1d(frame_pow, 9, stride=1, padding=4, count_include_pad=False)
        slow_pow = F.avg_pool1d(frame_pow, 33, stride=1, padding=16, count_include_pad=False)
        env = torch.sqrt(env_pow + 1e-10)
        melp = torch.matmul(self.mel, power) / (N_FFT / 2)
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
        e = torch.matmul(style, self.style_emb)  # weighted style embedding: the mix happens here
        h = self.inp(feats) + self.inp_e(e).unsqueeze(-1)
        for blk in self.blocks:
            h = blk(h, e)
        h = F.leaky_relu(h, 0.1)
        # v2: the excitations are scaled by the phrase loudness (2 s), not the 50 ms envelope, so the
        # layers no longer pump per beat; the heads may still follow beats where a style asks for it
        g_noise = torch.exp(torch.clamp(self.head_noise(h), -15.0, 4.0)) * phrase
        g_click = torch.exp(torch.clamp(self.head_click(h), -15.0, 4.0)) * phrase
        g_tex = torch.exp(torch.clamp(self.head_tex(h), -15.0, 4.0)) * (phrase / TEX_RMS)
        m_music = torch.exp(torch.clamp(self.head_music(h), -15.0, 2.0))
        m_drive = torch.exp(torch.clamp(self.head_drive(h), -15.0, 2.0))
        # harmonic source: the music driven through a level-normalised tanh (guitar-amp style),
        # gives the net partials the music does not have (distortion, octaves, intermodulation)
        env_t = F.conv_transpose1d(env, self.upsample, stride=HOP)[:, 0, HOP:-HOP]
        driven = torch.tanh(self.drive * audio / (env_t + 1e-4)) * env_t
        dspec = self.stft(driven)
        nspec = self.noise_spectrum(noise)
        clicks = noise * (noise.abs() > CLICK_SIGMA).to(noise.dtype) / CLICK_RMS
        kspec = self.stft(clicks)
        g2 = torch.cat([g_noise, g_noise], 1)
        c2 = torch.cat([g_click, g_click], 1)
        m2 = torch.cat([m_music, m_music], 1)
        d2 = torch.cat([m_drive, m_drive], 1)
        t2 = torch.cat([g_tex, g_tex], 1)
        tspec = self.stft(texture)
        out = m2 * spec + d2 * dspec + g2 * nspec + c2 * kspec + t2 * tspec
        return self.istft(out)


def export_onnx(model, path, window=WINDOW):
    model = model.eval()
    s = model.n_styles
    audio = torch.zeros(1, window)
    style = torch.full((1, s), 1.0 / s)
    noise = torch.randn(1, window)
    texture = torch.randn(1, window) * TEX_RMS
    torch.onnx.export(
        model, (audio, style, noise, texture), path, opset_version=17,
        input_names=["audio", "style", "noise", "texture"], output_names=["wet"],
        dynamic_axes={"audio": {0: "B", 1: "N"}, "style": {0: "B"}, "noise": {0: "B", 1: "N"},
                      "texture": {0: "B", 1: "N"}, "wet": {0: "B", 1: "N"}},
        do_constant_folding=True,
    )
