"""The online discriminative correlation filter (ATOM / D3S style) that localises the target.

Model: ``response = conv2d(P·x, f)`` with ``x`` the normalised backbone features of the search
crop (C channels, H×W cells), ``P`` a learned 1×1 projection to D channels (PCA-initialised) and
``f`` a k×k filter. Objective over the sample memory (weights ``α_j`` summing to 1)::

    L(f, P) = Σ_j α_j ‖conv(P x_j, f) − y_j‖² + λ_f ‖f‖² + λ_P ‖P‖²

with ``y_j`` a Gaussian at the target, the response passed through ``mlu`` (official
``response_activation = ('mlu', 0.05)``) and, in the updates, the regulariser weighted by
``outer(p, p)`` (``filter_penalty``). At initialisation Gauss-Newton over ``(f, P)`` with a
conjugate-gradient solve of each linearised step; afterwards ``P`` is fixed and the (linear)
filter problem is refined by one Gauss-Newton step of warm-started CG (pytracking's
``ConjugateGradient`` on its ``ConvProblem``). The normal-equation operators are written out
with ``conv2d`` / ``conv_transpose2d`` (the adjoint of ``conv2d``), so no autograd graph is
needed and the tracker can run under ``torch.inference_mode``. Where the samples stay fixed
through a CG solve (the filter updates; the filter part of each initial Gauss-Newton step) the
filter's operators run in the Fourier domain (:class:`SampleSpectra`): a k×k filter on ~50
samples of 64 channels is a shape oneDNN's convolutions handle at a few GFLOP/s (6.3 ms per CG
iteration on 2 cores), against 2.1 ms for the products of the padded samples' spectra; the
results agree to float rounding. The initial projection and its gradient are matmuls with the
features laid out once as a (C, S·H·W) matrix (einsum copied them on every call).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable, Literal

import torch
import torch.nn.functional as F

from ltr.models.jcat.experiment import DcfConfig

Vector = list[torch.Tensor]
Flag = Literal["normal", "hard_negative", "uncertain", "not_found"]


def normalize_features(x: torch.Tensor) -> torch.Tensor:
    """Scale each sample (S, C, H, W) to a mean squared value of 1, as pytracking's ``normalize_power=2``."""
    energy = x.pow(2).mean(dim=(1, 2, 3), keepdim=True)
    return x / (energy + 1e-10).sqrt()


def mlu(x: torch.Tensor, a: float) -> torch.Tensor:
    """pytracking's 'mlu': ``elu(leaky_relu(x, 1/a), a)`` = x for x >= 0, a·(exp(x/a) − 1) below."""
    return torch.where(x >= 0, x, a * torch.expm1(torch.clamp(x, max=0.0) / a))


def mlu_derivative(x: torch.Tensor, a: float) -> torch.Tensor:
    """d mlu / dx: 1 for x >= 0, exp(x/a) below."""
    return torch.where(x >= 0, torch.ones_like(x), torch.exp(torch.clamp(x, max=0.0) / a))


def fourier_upsample_matrix(n: int, m: int) -> torch.Tensor:
    """(m, n) matrix sampling the Fourier series of a periodic n-vector at positions i·n/m.

    As pytracking's ``cfft2`` + ``sample_fs`` for even n: the Nyquist term enters at both
    +n/2 and −n/2 with its full amplitude (``rfftshift2`` duplicates it), so the series is
    ``(1/n) Σ_{k=-n/2}^{n/2} X_k e^{2πik·p/n}``, real for real input.
    """
    p = torch.arange(m, dtype=torch.float64)[:, None] * n / m
    j = torch.arange(n, dtype=torch.float64)[None, :]
    k = torch.arange(-(n // 2), n // 2 + 1, dtype=torch.float64)  # odd n: no Nyquist term
    phase = 2 * math.pi * (p - j)[..., None] * k / n
    return (torch.cos(phase).sum(-1) / n).float()


def response_confidence(scores: torch.Tensor) -> float:
    """JCAT's confidence of a response map: ``smax·(smax−smin)² / mean((s−smin)²)``."""
    smax, smin = scores.max(), scores.min()
    denom = (scores - smin).pow(2).mean()
    return float(smax * (smax - smin) ** 2 / denom) if float(denom) > 0 else 0.0


def gaussian_label(size: int, center: tuple[float, float], sigma: float) -> torch.Tensor:
    """(size, size) Gaussian with peak 1 at ``center`` = (row, col) in response cells."""
    coords = torch.arange(size, dtype=torch.float32)
    gy = torch.exp(-0.5 * ((coords - center[0]) / sigma) ** 2)
    gx = torch.exp(-0.5 * ((coords - center[1]) / sigma) ** 2)
    return gy[:, None] * gx[None, :]


def centred_hann_window_2d(size: int) -> torch.Tensor:
    """pytracking's ``hann2d(size, centered=False)`` rolled to peak (1) at index size/2:
    ``0.5·(1 + cos(2π d / (size + 2)))`` at distance ``d`` from the centre."""
    d = torch.arange(size, dtype=torch.float32) - size // 2
    window = 0.5 * (1 + torch.cos(2 * math.pi * d / (size + 2)))
    return window[:, None] * window[None, :]


def hann_window_2d(size: int) -> torch.Tensor:
    """Separable (size, size) Hann window that suppresses responses far from the previous position."""
    window = torch.hann_window(size + 2, periodic=False)[1:-1]  # strictly positive inside
    return window[:, None] * window[None, :]


def refine_peak(response: torch.Tensor, row: int, col: int) -> tuple[float, float]:
    """Sub-cell peak position: a parabola through the maximum and its two neighbours on each axis."""

    def offset(prev: torch.Tensor, centre: torch.Tensor, nxt: torch.Tensor) -> float:
        curvature = float(prev - 2 * centre + nxt)
        if not math.isfinite(curvature) or curvature >= -1e-12:
            return 0.0
        return max(-0.5, min(0.5, 0.5 * float(prev - nxt) / curvature))

    height, width = response.shape
    dy = offset(response[row - 1, col], response[row, col], response[row + 1, col]) if 0 < row < height - 1 else 0.0
    dx = offset(response[row, col - 1], response[row, col], response[row, col + 1]) if 0 < col < width - 1 else 0.0
    return row + dy, col + dx


def conjugate_gradient(apply_a: Callable[[Vector], Vector], b: Vector, x0: Vector, iters: int) -> Vector:
    """Solve ``A x = b`` (A symmetric positive definite, given as a function) by ``iters`` CG steps from ``x0``."""

    def dot(u: Vector, v: Vector) -> torch.Tensor:
        return sum((ui * vi).sum() for ui, vi in zip(u, v))

    x = [t.clone() for t in x0]
    r = [bi - ai for bi, ai in zip(b, apply_a(x))]
    p = [t.clone() for t in r]
    rho = dot(r, r)
    for _ in range(iters):
        if float(rho) < 1e-20:
            break
        q = apply_a(p)
        alpha = rho / dot(p, q).clamp(min=1e-20)
        x = [xi + alpha * pi for xi, pi in zip(x, p)]
        r = [ri - alpha * qi for ri, qi in zip(r, q)]
        rho_new = dot(r, r)
        p = [ri + (rho_new / rho) * pi for ri, pi in zip(r, p)]
        rho = rho_new
    return x


class SampleSpectra:
    """Fixed samples ``z`` (S, D, H, W) in the Fourier domain, for the filter-update operators.

    With the samples zero-padded by ``p`` to N×N (N = H + 2p, as ``conv2d(padding=p)`` pads them),
    the correlation with a k×k filter and its adjoint are the first (N−k+1)² and k² entries of
    circular cross-correlations of size N, in which no index wraps around. The spectra are kept
    as real and imaginary parts, frequency-major (F, S, D): complex einsums fall back to a
    per-frequency loop on the CPU, several times slower than these element-wise products.
    A sample memory keeps one instance over all its slots and replaces a slot's spectrum when the
    slot is written (:meth:`replace`): a 5-iteration update on 207 samples took 139 ms when it
    transformed them anew, 72 ms with them kept.
    """

    def __init__(self, z: torch.Tensor, padding: int, filter_size: int) -> None:
        if z.shape[-1] != z.shape[-2]:
            raise ValueError(f"samples must be square feature maps, got {tuple(z.shape[-2:])}")
        self.padding = padding
        self.n = z.shape[-1] + 2 * padding
        self.k = filter_size
        self.out = self.n - filter_size + 1
        spectra = torch.fft.rfft2(F.pad(z, [padding] * 4))  # (S, D, N, N//2+1)
        self.half = spectra.shape[-1]
        spectra = spectra.flatten(2).permute(2, 0, 1)  # (F, S, D)
        self.real, self.imag = spectra.real.contiguous(), spectra.imag.contiguous()

    def replace(self, index: int, sample: torch.Tensor) -> None:
        """Slot ``index`` now holds ``sample`` (D, H, W)."""
        spectrum = torch.fft.rfft2(F.pad(sample, [self.padding] * 4)).flatten(1).T  # (F, D)
        self.real[:, index], self.imag[:, index] = spectrum.real, spectrum.imag

    def first(self, count: int) -> SampleSpectra:
        """The operators over the first ``count`` samples only (a view: no copy)."""
        view = copy.copy(self)
        view.real, view.imag = self.real[:, :count], self.imag[:, :count]
        return view

    def _spectrum(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, h, w) -> real and imaginary parts (F, B) of its zero-padded N×N spectrum."""
        spectrum = torch.fft.rfft2(x, s=(self.n, self.n)).flatten(1).T
        return spectrum.real, spectrum.imag

    def _inverse(self, real: torch.Tensor, imag: torch.Tensor, size: int) -> torch.Tensor:
        """(F, B) parts -> the first size×size entries (B, size, size) of their inverse transform."""
        spectrum = torch.complex(real, imag).T.reshape(-1, self.n, self.half)
        return torch.fft.irfft2(spectrum, s=(self.n, self.n))[..., :size, :size]

    def correlate(self, f: torch.Tensor) -> torch.Tensor:
        """``conv2d(z, f, padding=p)[:, 0]`` for a filter (1, D, k, k) -> (S, Ho, Wo)."""
        fr, fi = (part.unsqueeze(1) for part in self._spectrum(f[0]))  # (F, 1, D): Σ_d z·conj(f)
        real = (self.real * fr + self.imag * fi).sum(-1)
        imag = (self.imag * fr - self.real * fi).sum(-1)
        return self._inverse(real, imag, self.out)

    def adjoint(self, u: torch.Tensor) -> torch.Tensor:
        """Adjoint of :meth:`correlate` applied to residuals ``u`` (S, Ho, Wo) -> (1, D, k, k)."""
        ur, ui = (part.unsqueeze(-1) for part in self._spectrum(u))  # (F, S, 1): Σ_s z·conj(u)
        real = (self.real * ur + self.imag * ui).sum(1)
        imag = (self.imag * ur - self.real * ui).sum(1)
        return self._inverse(real, imag, self.k).unsqueeze(0)


@dataclass
class Localization:
    """Result of one localisation: displacement of the target from the crop centre, in response cells."""

    displacement: tuple[float, float]  # (rows, cols)
    score: float  # maximum of the (windowed) response
    flag: Flag
    confidence: float = 0.0  # response_confidence of the (windowed) map


class CorrelationFilter:
    """Projection + filter with an ATOM-style weighted sample memory; one instance per sequence.

    ``feature_size`` is the side of the feature map (``sample_size // stride``); responses have
    side ``feature_size + 2·(k//2) − k + 1`` and cell ``center_index`` lies on the crop centre.
    """

    def __init__(self, cfg: DcfConfig, feature_size: int) -> None:
        self.cfg = cfg
        self.feature_size = feature_size
        self.padding = cfg.filter_size // 2
        self.response_size = feature_size + 2 * self.padding - cfg.filter_size + 1
        # response cell i sits on feature position i + (k-1)/2 - pad; feature j is centred on (j + 0.5)·stride
        self.center_index = feature_size / 2 - 0.5 - (cfg.filter_size - 1) / 2 + self.padding
        self.upsample = None
        if cfg.upsample_response:  # the 'same' response (feature_size²) sampled at 1 crop px per cell
            size = cfg.sample_size
            self.cells_per_px = feature_size / size
            self.upsample = fourier_upsample_matrix(feature_size, size)
            self.window = centred_hann_window_2d(size) if cfg.hann_window else None
        else:
            self.window = hann_window_2d(self.response_size) if cfg.hann_window else None
        penalty = torch.tensor(cfg.filter_penalty, dtype=torch.float32) if cfg.filter_penalty else None
        if penalty is not None and penalty.numel() != cfg.filter_size:
            raise ValueError(f"dcf.filter_penalty needs {cfg.filter_size} values (filter_size), got {cfg.filter_penalty}")
        self.penalty = None if penalty is None else (penalty[:, None] * penalty[None, :]).pow(2)  # (k, k), squared
        self.projection: torch.Tensor | None = None  # (D, C)
        self.filter: torch.Tensor | None = None  # (1, D, k, k)

    # ---------------------------------------------------------------- operators
    def _project(self, x: torch.Tensor, projection: torch.Tensor | None = None) -> torch.Tensor:
        return torch.einsum("dc,schw->sdhw", self.projection if projection is None else projection, x)

    def _correlate(self, z: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        """(S, D, H, W) ⋆ (1, D, k, k) -> (S, Ho, Wo)."""
        return F.conv2d(z, f, padding=self.padding)[:, 0]

    def _act(self, r: torch.Tensor) -> torch.Tensor:
        return mlu(r, self.cfg.response_activation_param) if self.cfg.response_activation == "mlu" else r

    def _act_grad(self, r: torch.Tensor) -> torch.Tensor:
        if self.cfg.response_activation == "mlu":
            return mlu_derivative(r, self.cfg.response_activation_param)
        return torch.ones_like(r)

    def label(self, center: tuple[float, float], target_cells: float) -> torch.Tensor:
        """Gaussian label at ``center`` (response cells) for a target of side ``target_cells`` feature cells."""
        return gaussian_label(self.response_size, center, self.cfg.output_sigma_factor * target_cells)

    # ---------------------------------------------------------------- initialisation
    def initialize(self, features: torch.Tensor, labels: torch.Tensor) -> list[float]:
        """Fit projection and filter on the initial samples (augmentations of frame 1).

        ``features`` (S, C, H, W) normalised, ``labels`` (S, Ho, Wo). Returns the loss after each
        Gauss-Newton iteration (the first entry is the loss of the zero filter).
        """
        cfg = self.cfg
        samples, channels = features.shape[:2]
        dim = min(cfg.projection_dim, channels)
        flat = features.transpose(0, 1).reshape(channels, -1)
        flat = flat - flat.mean(dim=1, keepdim=True)
        eigvecs = torch.linalg.svd(flat @ flat.T / flat.shape[1]).U  # PCA of the channel covariance
        self.projection = eigvecs[:, :dim].T.contiguous()
        self.filter = features.new_zeros(1, dim, cfg.filter_size, cfg.filter_size)
        weights = features.new_full((samples,), 1.0 / samples)
        x, y = features, labels
        losses = [self._loss(self._project(x), y, weights, self.filter, self.projection)]
        for _ in range(cfg.init_gn_iters):
            self._gauss_newton_step(x, y, weights, cfg.init_cg_iters)
            losses.append(self._loss(self._project(x), y, weights, self.filter, self.projection))
        self._init_memory(self._project(x), y, weights)
        return losses

    def _gauss_newton_step(self, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, cg_iters: int) -> None:
        """One Gauss-Newton step on (filter, projection): CG on ``(JᵀWJ + Λ) Δ = −(JᵀW r + Λ θ)``."""
        f0, p0 = self.filter, self.projection
        samples, channels, height, width = x.shape
        x_flat = x.transpose(0, 1).reshape(channels, -1)  # (C, S·H·W) once: projections are plain matmuls

        def project(p: torch.Tensor) -> torch.Tensor:
            return (p @ x_flat).view(p.shape[0], samples, height, width).transpose(0, 1)

        z0 = project(p0).contiguous()
        spectra = SampleSpectra(z0, self.padding, self.cfg.filter_size)
        lam_f, lam_p = self.cfg.filter_reg, self.cfg.projection_reg
        weight = w.view(-1, 1, 1)

        def jac(df: torch.Tensor, dp: torch.Tensor) -> torch.Tensor:
            return spectra.correlate(df) + self._correlate(project(dp).contiguous(), f0)

        def jac_t(u: torch.Tensor) -> Vector:
            grad_z = F.conv_transpose2d(u.unsqueeze(1), f0, padding=self.padding)
            return [spectra.adjoint(u), grad_z.transpose(0, 1).reshape(grad_z.shape[1], -1) @ x_flat.T]

        def normal_op(v: Vector) -> Vector:
            gf, gp = jac_t(weight * jac(v[0], v[1]))
            return [gf + lam_f * v[0], gp + lam_p * v[1]]

        raw = spectra.correlate(f0)
        slope = self._act_grad(raw)  # the activation's Jacobian (diagonal) at the current point
        weight = weight * slope * slope
        residual = (self._act(raw) - y) / torch.where(slope > 0, slope, torch.ones_like(slope))
        gf, gp = jac_t(weight * residual)
        rhs = [-(gf + lam_f * f0), -(gp + lam_p * p0)]
        step = conjugate_gradient(normal_op, rhs, [torch.zeros_like(f0), torch.zeros_like(p0)], cg_iters)
        self.filter, self.projection = f0 + step[0], p0 + step[1]

    def _loss(self, z: torch.Tensor, y: torch.Tensor, w: torch.Tensor, f: torch.Tensor, p: torch.Tensor) -> float:
        residual = self._act(self._correlate(z, f)) - y
        data = (w * residual.pow(2).sum(dim=(1, 2))).sum()
        return float(data + self.cfg.filter_reg * f.pow(2).sum() + self.cfg.projection_reg * p.pow(2).sum())

    # ---------------------------------------------------------------- sample memory
    def _init_memory(self, z: torch.Tensor, y: torch.Tensor, weights: torch.Tensor) -> None:
        size = max(self.cfg.memory_size, z.shape[0] + 1)  # room for at least one tracked sample
        self.samples = z.new_zeros(size, *z.shape[1:])
        self.labels = y.new_zeros(size, *y.shape[1:])
        self.weights = weights.new_zeros(size)
        n = z.shape[0]
        self.samples[:n], self.labels[:n], self.weights[:n] = z, y, weights
        self.spectra = SampleSpectra(self.samples, self.padding, self.cfg.filter_size)
        self.num_init = n
        self.num_stored = n
        self.previous_index: int | None = None

    def add_sample(self, features: torch.Tensor, label: torch.Tensor, learning_rate: float) -> int:
        """Store one sample (1, C, H, W) by pytracking's ``update_sample_weights``; returns its slot.

        The slot is the lightest one (empty slots weigh 0, so they fill first); initial samples
        are candidates unless ``init_samples_min_weight`` > 0. The weights are relative: the
        first added sample gets ``lr`` (all others ÷ (1 − lr)), each later one the previous
        added sample's weight ÷ (1 − lr), then all are normalised to sum 1 — an exponential
        forgetting of rate ``lr`` per added sample. With a minimum (a project option; the
        official tracker has none), the initial samples keep at least that total weight.
        """
        lr = learning_rate
        w = self.weights
        min_init = self.cfg.init_samples_min_weight
        start = self.num_init if min_init > 0 else 0
        if lr >= 1:
            w.zero_()
            index = 0
        else:
            index = start + int(torch.argmin(w[start:]))
            if self.previous_index is None:
                w /= 1 - lr
                w[index] = lr
            else:
                w[index] = w[self.previous_index] / (1 - lr)
        if lr >= 1:
            w[index] = 1.0
        w /= w.sum()
        init_total = float(w[: self.num_init].sum())
        if min_init > 0 and init_total < min_init:  # initial samples share min_init, the rest 1 − min_init
            w[: self.num_init] *= min_init / max(init_total, 1e-12)
            w[self.num_init:] *= (1.0 - min_init) / max(1.0 - init_total, 1e-12)
        self.previous_index = index
        self.num_stored = min(self.num_stored + 1, self.samples.shape[0])
        self.samples[index] = self._project(features)[0]
        self.spectra.replace(index, self.samples[index])
        self.labels[index] = label
        return index

    def filter_loss(self) -> float:
        """Current objective of the filter updates over the stored samples (projection fixed,
        regulariser weighted by the penalty profile)."""
        n = self.num_stored
        residual = self._act(self._correlate(self.samples[:n], self.filter)) - self.labels[:n]
        data = (self.weights[:n] * residual.pow(2).sum(dim=(1, 2))).sum()
        penalty = self.penalty.to(self.filter.device) if self.penalty is not None else 1.0
        return float(data + self.cfg.filter_reg * (penalty * self.filter.pow(2)).sum())

    def optimize_filter(self, iters: int) -> None:
        """One Gauss-Newton step on the filter (projection fixed): ``iters`` CG steps on
        ``(AᵀDWDA + λ·Π) Δ = −(AᵀDW(mlu(Af) − y) + λ·Π f)`` from Δ = 0, with ``D`` the
        activation's slope at the current filter and ``Π`` the squared penalty profile."""
        n = self.num_stored  # slots fill in order; the rest weigh 0
        y, weight = self.labels[:n], self.weights[:n].view(-1, 1, 1)
        lam = self.cfg.filter_reg
        penalty = self.penalty.to(y.device) if self.penalty is not None else 1.0
        f0 = self.filter
        spectra = self.spectra.first(n)
        raw = spectra.correlate(f0)
        slope = self._act_grad(raw)
        wdd = weight * slope * slope

        def normal_op(v: Vector) -> Vector:
            return [spectra.adjoint(wdd * spectra.correlate(v[0])) + lam * penalty * v[0]]

        rhs = [-(spectra.adjoint(weight * slope * (self._act(raw) - y)) + lam * penalty * f0)]
        step = conjugate_gradient(normal_op, rhs, [torch.zeros_like(f0)], iters)[0]
        self.filter = f0 + step

    # ---------------------------------------------------------------- localisation
    def response(self, features: torch.Tensor) -> torch.Tensor:
        """Raw filter response (Ho, Wo) of normalised features (1, C, H, W)."""
        return self._correlate(self._project(features), self.filter)[0]

    def localize(self, response: torch.Tensor, target_cells: tuple[float, float]) -> Localization:
        """Peak of the windowed response with ATOM's advanced handling of distractors.

        ``target_cells``: target (height, width) in feature cells. With ``upsample_response``
        the 'same' response (first feature_size rows and columns) is Fourier-interpolated to
        ``sample_size²`` and windowed there, as the official tracker does. The second-highest
        peak outside ``target_neighborhood_scale`` × the target (the neighbourhood set to 0,
        as officially) decides: above ``distractor_threshold`` × the first -> ``uncertain``
        unless exactly one peak is near the centre (``hard_negative``); above
        ``hard_negative_threshold`` × the first (and the not-found threshold) -> ``hard_negative``.
        """
        cfg = self.cfg
        scale = 1.0  # response cells per map cell
        center = self.center_index
        if self.upsample is not None:
            n = self.feature_size
            k = self.upsample.to(response.device)
            response = k @ response[:n, :n] @ k.T
            scale = self.cells_per_px
            center = cfg.sample_size // 2
        scores = response * self.window.to(response.device) if self.window is not None else response
        confidence = response_confidence(scores)
        score1, peak1 = self._peak(scores, refine=self.upsample is None)
        disp1 = ((peak1[0] - center) * scale, (peak1[1] - center) * scale)
        if not math.isfinite(score1) or score1 < cfg.target_not_found_threshold:
            return Localization(disp1, score1, "not_found", confidence)
        size = scores.shape[0]
        half = [cfg.target_neighborhood_scale * t / scale / 2 for t in target_cells]
        top, bottom = max(round(peak1[0] - half[0]), 0), min(round(peak1[0] + half[0] + 1), size)
        left, right = max(round(peak1[1] - half[1]), 0), min(round(peak1[1] + half[1] + 1), size)
        masked = scores.clone()
        masked[top:bottom, left:right] = 0.0
        score2, peak2 = self._peak(masked, refine=self.upsample is None)
        disp2 = ((peak2[0] - center) * scale, (peak2[1] - center) * scale)
        if score2 > cfg.distractor_threshold * score1:
            near = cfg.displacement_scale * size / 2
            near1 = math.hypot(peak1[0] - center, peak1[1] - center) < near
            near2 = math.hypot(peak2[0] - center, peak2[1] - center) < near
            if near1 and not near2:
                return Localization(disp1, score1, "hard_negative", confidence)
            if near2 and not near1:
                return Localization(disp2, score2, "hard_negative", confidence)
            return Localization(disp1, score1, "uncertain", confidence)
        if score2 > cfg.hard_negative_threshold * score1 and score2 > cfg.target_not_found_threshold:
            return Localization(disp1, score1, "hard_negative", confidence)
        return Localization(disp1, score1, "normal", confidence)

    @staticmethod
    def _peak(scores: torch.Tensor, refine: bool = True) -> tuple[float, tuple[float, float]]:
        index = int(torch.argmax(scores))
        row, col = divmod(index, scores.shape[1])
        return float(scores[row, col]), (refine_peak(scores, row, col) if refine else (float(row), float(col)))
