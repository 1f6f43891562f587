"""The online discriminative correlation filter (ATOM / D3S style) that localises the target.

Model: ``response = conv2d(P·x, f)`` with ``x`` the normalised backbone features of the search
crop (C channels, H×W cells), ``P`` a learned 1×1 projection to D channels (PCA-initialised) and
``f`` a k×k filter. Objective over the sample memory (weights ``α_j`` summing to 1)::

    L(f, P) = Σ_j α_j ‖conv(P x_j, f) − y_j‖² + λ_f ‖f‖² + λ_P ‖P‖²

with ``y_j`` a Gaussian at the target. At initialisation Gauss-Newton over ``(f, P)`` with a
conjugate-gradient solve of each linearised step; afterwards ``P`` is fixed and the (linear)
filter problem is refined by warm-started CG. The normal-equation operators are written out
with ``conv2d`` / ``conv_transpose2d`` (the adjoint of ``conv2d``), so no autograd graph is
needed and the tracker can run under ``torch.inference_mode``.
"""
from __future__ import annotations

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


def gaussian_label(size: int, center: tuple[float, float], sigma: float) -> torch.Tensor:
    """(size, size) Gaussian with peak 1 at ``center`` = (row, col) in response cells."""
    coords = torch.arange(size, dtype=torch.float32)
    gy = torch.exp(-0.5 * ((coords - center[0]) / sigma) ** 2)
    gx = torch.exp(-0.5 * ((coords - center[1]) / sigma) ** 2)
    return gy[:, None] * gx[None, :]


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


@dataclass
class Localization:
    """Result of one localisation: displacement of the target from the crop centre, in response cells."""

    displacement: tuple[float, float]  # (rows, cols)
    score: float  # maximum of the (windowed) response
    flag: Flag


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
        self.window = hann_window_2d(self.response_size) if cfg.hann_window else None
        self.projection: torch.Tensor | None = None  # (D, C)
        self.filter: torch.Tensor | None = None  # (1, D, k, k)

    # ---------------------------------------------------------------- operators
    def _project(self, x: torch.Tensor, projection: torch.Tensor | None = None) -> torch.Tensor:
        return torch.einsum("dc,schw->sdhw", self.projection if projection is None else projection, x)

    def _correlate(self, z: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        """(S, D, H, W) ⋆ (1, D, k, k) -> (S, Ho, Wo)."""
        return F.conv2d(z, f, padding=self.padding)[:, 0]

    def _filter_adjoint(self, z: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Adjoint of ``f -> _correlate(z, f)`` applied to residuals ``u`` (S, Ho, Wo) -> (1, D, k, k)."""
        z_pad = F.pad(z, [self.padding] * 4)
        return F.conv2d(z_pad.transpose(0, 1), u.unsqueeze(0)).transpose(0, 1)

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
        z0 = self._project(x, p0)
        lam_f, lam_p = self.cfg.filter_reg, self.cfg.projection_reg
        weight = w.view(-1, 1, 1)

        def jac(df: torch.Tensor, dp: torch.Tensor) -> torch.Tensor:
            return self._correlate(z0, df) + self._correlate(self._project(x, dp), f0)

        def jac_t(u: torch.Tensor) -> Vector:
            grad_z = F.conv_transpose2d(u.unsqueeze(1), f0, padding=self.padding)
            return [self._filter_adjoint(z0, u), torch.einsum("sdhw,schw->dc", grad_z, x)]

        def normal_op(v: Vector) -> Vector:
            gf, gp = jac_t(weight * jac(v[0], v[1]))
            return [gf + lam_f * v[0], gp + lam_p * v[1]]

        residual = self._correlate(z0, f0) - y
        gf, gp = jac_t(weight * residual)
        rhs = [-(gf + lam_f * f0), -(gp + lam_p * p0)]
        step = conjugate_gradient(normal_op, rhs, [torch.zeros_like(f0), torch.zeros_like(p0)], cg_iters)
        self.filter, self.projection = f0 + step[0], p0 + step[1]

    def _loss(self, z: torch.Tensor, y: torch.Tensor, w: torch.Tensor, f: torch.Tensor, p: torch.Tensor) -> float:
        residual = self._correlate(z, f) - y
        data = (w * residual.pow(2).sum(dim=(1, 2))).sum()
        return float(data + self.cfg.filter_reg * f.pow(2).sum() + self.cfg.projection_reg * p.pow(2).sum())

    # ---------------------------------------------------------------- sample memory
    def _init_memory(self, z: torch.Tensor, y: torch.Tensor, weights: torch.Tensor) -> None:
        size = max(self.cfg.memory_size, z.shape[0] + 1)
        self.samples = z.new_zeros(size, *z.shape[1:])
        self.labels = y.new_zeros(size, *y.shape[1:])
        self.weights = weights.new_zeros(size)
        n = z.shape[0]
        self.samples[:n], self.labels[:n], self.weights[:n] = z, y, weights
        self.num_init = n
        self.num_stored = n

    def add_sample(self, features: torch.Tensor, label: torch.Tensor, learning_rate: float) -> int:
        """Store one sample (1, C, H, W) with weight ``learning_rate`` (ATOM's replacement rule); its slot.

        Old weights decay by ``1 − lr``; when the memory is full the lightest non-initial sample
        is replaced; the initial samples keep at least ``init_samples_min_weight`` in total.
        """
        lr = learning_rate
        if self.num_stored < self.samples.shape[0]:
            index = self.num_stored
            self.num_stored += 1
        else:
            index = self.num_init + int(torch.argmin(self.weights[self.num_init:]))
        self.weights *= 1.0 - lr
        self.weights[index] = lr
        self.weights /= self.weights.sum()
        min_init = self.cfg.init_samples_min_weight
        init_total = float(self.weights[: self.num_init].sum())
        if init_total < min_init:  # rescale: initial samples share min_init, the rest 1 - min_init
            self.weights[: self.num_init] *= min_init / init_total
            self.weights[self.num_init:] *= (1.0 - min_init) / (1.0 - init_total)
        self.samples[index] = self._project(features)[0]
        self.labels[index] = label
        return index

    def filter_loss(self) -> float:
        """Current objective over the stored samples (with the projection fixed)."""
        n = self.num_stored
        return self._loss(self.samples[:n], self.labels[:n], self.weights[:n], self.filter, self.projection)

    def optimize_filter(self, iters: int) -> None:
        """Refine the filter (projection fixed) by ``iters`` CG steps on ``(AᵀWA + λ) f = AᵀW y``, warm-started."""
        n = self.num_stored
        z, y, weight = self.samples[:n], self.labels[:n], self.weights[:n].view(-1, 1, 1)
        lam = self.cfg.filter_reg

        def normal_op(v: Vector) -> Vector:
            return [self._filter_adjoint(z, weight * self._correlate(z, v[0])) + lam * v[0]]

        rhs = [self._filter_adjoint(z, weight * y)]
        self.filter = conjugate_gradient(normal_op, rhs, [self.filter], iters)[0]

    # ---------------------------------------------------------------- localisation
    def response(self, features: torch.Tensor) -> torch.Tensor:
        """Raw filter response (Ho, Wo) of normalised features (1, C, H, W)."""
        return self._correlate(self._project(features), self.filter)[0]

    def localize(self, response: torch.Tensor, target_cells: tuple[float, float]) -> Localization:
        """Peak of the windowed response with ATOM's advanced handling of distractors.

        ``target_cells``: target (height, width) in feature cells. The second-highest peak
        outside ``target_neighborhood_scale`` × the target around the first decides: close to
        the first (above ``distractor_threshold``) -> ``uncertain`` unless one peak is near the
        centre; above ``hard_negative_threshold`` -> ``hard_negative`` (train harder this frame).
        """
        cfg = self.cfg
        scores = response * self.window if self.window is not None else response
        score1, peak1 = self._peak(scores)
        c = self.center_index
        disp1 = (peak1[0] - c, peak1[1] - c)
        if not math.isfinite(score1) or score1 < cfg.target_not_found_threshold:
            return Localization(disp1, score1, "not_found")
        size = scores.shape[0]
        half = [cfg.target_neighborhood_scale * t / 2 for t in target_cells]
        top, bottom = max(round(peak1[0] - half[0]), 0), min(round(peak1[0] + half[0] + 1), size)
        left, right = max(round(peak1[1] - half[1]), 0), min(round(peak1[1] + half[1] + 1), size)
        masked = scores.clone()
        masked[top:bottom, left:right] = -float("inf")
        if not torch.isfinite(masked).any():
            return Localization(disp1, score1, "normal")
        score2, peak2 = self._peak(masked)
        disp2 = (peak2[0] - c, peak2[1] - c)
        if score2 > cfg.distractor_threshold * score1:
            near = cfg.displacement_scale * size / 2
            near1, near2 = math.hypot(*disp1) <= near, math.hypot(*disp2) <= near
            if near1 and not near2:
                return Localization(disp1, score1, "hard_negative")
            if near2 and not near1:
                return Localization(disp2, score2, "hard_negative")
            return Localization(disp1, score1, "uncertain")
        if score2 > cfg.hard_negative_threshold * score1 and score2 > cfg.target_not_found_threshold:
            return Localization(disp1, score1, "hard_negative")
        return Localization(disp1, score1, "normal")

    @staticmethod
    def _peak(scores: torch.Tensor) -> tuple[float, tuple[float, float]]:
        index = int(torch.argmax(scores))
        row, col = divmod(index, scores.shape[1])
        return float(scores[row, col]), refine_peak(scores, row, col)
