"""The online correlation filter: operators, CG, Gauss-Newton, sample memory and localisation."""
from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from ltr.models.jcat.experiment import DcfConfig
from pytracking.tracker.jcat.dcf import (
    CorrelationFilter,
    SampleSpectra,
    conjugate_gradient,
    gaussian_label,
    hann_window_2d,
    normalize_features,
    refine_peak,
)

FEATURE_SIZE = 18


def make_filter(**changes) -> CorrelationFilter:
    return CorrelationFilter(dataclasses.replace(DcfConfig(), projection_dim=8, **changes), FEATURE_SIZE)


def pattern(seed: int = 0, channels: int = 32) -> torch.Tensor:
    """Random smooth feature map (1, C, 18, 18)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, channels, FEATURE_SIZE, FEATURE_SIZE, generator=gen)
    return normalize_features(F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))


def fitted_filter(x: torch.Tensor, **changes) -> CorrelationFilter:
    dcf = make_filter(**changes)
    c = dcf.center_index
    dcf.initialize(x, dcf.label((c, c), 4.0).unsqueeze(0))
    return dcf


def test_geometry_centre_cell_is_crop_centre():
    dcf = make_filter()
    assert dcf.response_size == 19
    assert dcf.center_index == 9.0
    label = gaussian_label(19, (9.0, 9.0), 1.0)
    assert label.argmax() == 9 * 19 + 9 and label.max() == 1.0
    window = hann_window_2d(19)
    assert (window > 0).all() and window.argmax() == 9 * 19 + 9


def test_filter_adjoint_matches_autograd():
    dcf = make_filter()
    z = torch.randn(3, 8, FEATURE_SIZE, FEATURE_SIZE)
    f = torch.randn(1, 8, 4, 4, requires_grad=True)
    u = torch.randn(3, 19, 19)
    (dcf._correlate(z, f) * u).sum().backward()
    spectra = SampleSpectra(z, dcf.padding, 4)
    torch.testing.assert_close(spectra.adjoint(u), f.grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("filter_size", [4, 5, 1])
def test_fourier_operators_equal_the_convolutions(filter_size):
    """The filter updates' Fourier-domain operators against conv2d and its adjoint (float64, so
    only the algorithms differ), for even, odd and 1×1 filters."""
    dcf = make_filter(filter_size=filter_size, filter_penalty=[])
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(5, 8, FEATURE_SIZE, FEATURE_SIZE, generator=gen, dtype=torch.float64)
    f = torch.randn(1, 8, filter_size, filter_size, generator=gen, dtype=torch.float64)
    u = torch.randn(5, dcf.response_size, dcf.response_size, generator=gen, dtype=torch.float64)
    spectra = SampleSpectra(z, dcf.padding, filter_size)
    torch.testing.assert_close(spectra.correlate(f), dcf._correlate(z, f), rtol=1e-10, atol=1e-10)
    direct_adjoint = F.conv2d(F.pad(z, [dcf.padding] * 4).transpose(0, 1), u.unsqueeze(0)).transpose(0, 1)
    torch.testing.assert_close(spectra.adjoint(u), direct_adjoint, rtol=1e-10, atol=1e-10)


def test_memory_spectra_follow_every_written_slot():
    """The sample memory's spectra, updated slot by slot as samples are added (slots are reused
    once the memory is full), equal those of the stored samples transformed anew."""
    dcf = fitted_filter(pattern(0), memory_size=4)
    c = dcf.center_index
    for seed in range(1, 8):
        dcf.add_sample(pattern(seed), dcf.label((c, c), 4.0), 0.3)
    n = dcf.num_stored
    fresh = SampleSpectra(dcf.samples[:n], dcf.padding, dcf.cfg.filter_size)
    kept = dcf.spectra.first(n)
    torch.testing.assert_close(kept.real, fresh.real, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(kept.imag, fresh.imag, rtol=1e-5, atol=1e-5)
    f = torch.randn(1, dcf.samples.shape[1], 4, 4)
    torch.testing.assert_close(kept.correlate(f), dcf._correlate(dcf.samples[:n], f), rtol=1e-4, atol=1e-4)


def test_conjugate_gradient_solves_spd_system():
    gen = torch.Generator().manual_seed(1)
    m = torch.randn(6, 6, generator=gen)
    a = m @ m.T + 6 * torch.eye(6)
    b = torch.randn(6, generator=gen)
    x = conjugate_gradient(lambda v: [a @ v[0]], [b], [torch.zeros(6)], 6)[0]
    torch.testing.assert_close(a @ x, b, rtol=1e-4, atol=1e-4)


def test_gauss_newton_reduces_loss():
    x = torch.cat([pattern(0), pattern(0).flip(-1)])
    dcf = make_filter()
    c = dcf.center_index
    losses = dcf.initialize(x, dcf.label((c, c), 4.0).expand(2, -1, -1).clone())
    assert losses[-1] < 0.5 * losses[0]
    assert all(b <= a + 1e-6 for a, b in zip(losses, losses[1:]))


def test_filter_cg_reduces_loss_after_new_samples():
    dcf = fitted_filter(pattern(0))
    for seed in range(1, 4):
        shifted = torch.roll(pattern(seed), shifts=(1, -2), dims=(2, 3))
        c = dcf.center_index
        dcf.add_sample(shifted, dcf.label((c + 1, c - 2), 4.0), learning_rate=0.3)
    before = dcf.filter_loss()
    dcf.optimize_filter(5)
    after = dcf.filter_loss()
    assert after < before


@pytest.mark.parametrize("shift", [(0, 0), (2, -3), (-4, 1), (3, 3)])
def test_response_peak_tracks_translation(shift):
    x = pattern(3)
    dcf = fitted_filter(x, hann_window=False)
    moved = torch.roll(x, shifts=shift, dims=(2, 3))
    loc = dcf.localize(dcf.response(moved), (4.0, 4.0))
    assert loc.displacement == pytest.approx(shift, abs=0.5)
    assert loc.flag in ("normal", "hard_negative")


def test_peak_refinement_is_sub_cell():
    rows = torch.arange(9, dtype=torch.float32)
    response = torch.exp(-0.5 * (rows[:, None] - 4.3) ** 2) * torch.exp(-0.5 * (rows[None, :] - 3.8) ** 2)
    row, col = refine_peak(response, 4, 4)
    assert row == pytest.approx(4.3, abs=0.1) and col == pytest.approx(3.8, abs=0.1)
    assert refine_peak(response, 0, 0) == (0.0, 0.0)  # border: no neighbours, no refinement


def test_distractor_is_hard_negative_and_weak_response_not_found():
    # the mechanism with ATOM's thresholds (the official JCAT ones, -1 and 100, disable both)
    dcf = make_filter(upsample_response=False, target_not_found_threshold=0.25, distractor_threshold=0.8)
    c = int(dcf.center_index)
    response = gaussian_label(19, (c, c), 1.0) + 0.6 * gaussian_label(19, (c, c + 4), 1.0)
    assert dcf.localize(response, (2.0, 2.0)).flag == "hard_negative"
    clean = gaussian_label(19, (c, c), 1.0)
    assert dcf.localize(clean, (4.0, 4.0)).flag == "normal"
    assert dcf.localize(0.1 * clean, (4.0, 4.0)).flag == "not_found"
    twin = gaussian_label(19, (c - 6, c), 1.0) + gaussian_label(19, (c + 6, c), 1.0)
    assert dcf.localize(twin, (2.0, 2.0)).flag == "uncertain"


def test_memory_replacement_and_weights():
    dcf = make_filter(memory_size=4, learning_rate=0.5, init_samples_min_weight=0.25)  # protected initial samples
    dcf.initialize(torch.cat([pattern(0), pattern(1)]), dcf.label((9.0, 9.0), 4.0).expand(2, -1, -1).clone())
    slots = [dcf.add_sample(pattern(s), dcf.label((9.0, 9.0), 4.0), 0.5) for s in range(2, 7)]
    assert slots[:2] == [2, 3]  # free slots first
    assert all(s >= 2 for s in slots)  # initial samples are never replaced
    assert float(dcf.weights.sum()) == pytest.approx(1.0)
    assert float(dcf.weights[:2].sum()) >= 0.25 - 1e-6
