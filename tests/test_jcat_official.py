"""The online JCAT tracker against the official tracker's rules (Yang428/JCAT, issue 12).

Each test names the rule number(s) of the issue's list it checks, on hand-built inputs with
the expected values computed independently here. The tracker parts run with a random tiny
network; where the network's output matters it is replaced by a stub.
"""
from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ltr.config.experiment import load_experiment
from ltr.config.loader import from_dict
from ltr.data.boxes import CropTransform
from ltr.models.jcat.experiment import DcfConfig, JcatExperiment
from pytracking.tracker.jcat import augment
from pytracking.tracker.jcat.bbox_fit import fit_bbox_to_mask
from pytracking.tracker.jcat.crops import sample_patch, sample_target
from pytracking.tracker.jcat.dcf import (
    CorrelationFilter,
    centred_hann_window_2d,
    fourier_upsample_matrix,
    mlu,
    normalize_features,
    response_confidence,
)
from pytracking.tracker.jcat.segmentation import SegmentationResult, TargetSegmenter
from pytracking.tracker.jcat.tracker import JcatTracker

FAST = {
    "model": {"backbone": "resnet18"},
    "tracking": {"device": "cpu",
                 "dcf": {"sample_size": 128, "projection_dim": 8, "init_gn_iters": 2, "init_cg_iters": 5,
                         "augmentation": "none"},
                 "segmentation": {"output_size": 64}},
}


def make_tracker(**sections) -> JcatTracker:
    tracking = {k: dict(v) for k, v in FAST["tracking"].items() if isinstance(v, dict)}
    for name, values in sections.items():
        tracking.setdefault(name, {}).update(values)
    torch.manual_seed(0)
    return JcatTracker(from_dict(JcatExperiment, {**FAST, "tracking": {"device": "cpu", **tracking}}))


def frame(seed: int = 0, size=(96, 128)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 120, (*size, 3), dtype=np.uint8)
    image[30:46, 50:70] = rng.integers(130, 255, (16, 20, 3), dtype=np.uint8)
    return image


@pytest.fixture(scope="module")
def tracker() -> JcatTracker:
    t = make_tracker()
    t.initialize(frame(), {"init_bbox": [50.0, 30.0, 20.0, 16.0]})
    return t


def seg_result(crop_mask: np.ndarray, scale: float = 1.0) -> SegmentationResult:
    """A SegmentationResult of a hand-made mask (crop = frame when scale is 1)."""
    contours, _ = cv2.findContours(crop_mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contours = sorted(contours, key=lambda c: -cv2.contourArea(c))
    region = np.zeros_like(crop_mask, dtype=np.uint8)
    if contours:
        cv2.drawContours(region, contours[:1], -1, 1, thickness=cv2.FILLED)
    return SegmentationResult(crop_mask=crop_mask.astype(np.uint8), region_mask=region,
                              features={"layer3": torch.zeros(1, 2, 2, 2)},
                              transform=CropTransform(0.0, 0.0, scale, crop_mask.shape[0]),
                              areas=[float(cv2.contourArea(c)) for c in contours],
                              contour=contours[0] if contours else None, confidence=1.0)


def rect_mask(size: int, rects: list[tuple[int, int, int, int]]) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    for x, y, w, h in rects:
        mask[y:y + h, x:x + w] = 1
    return mask


# ------------------------------------------------------------------- memory bank (1, 4)


def test_rule01_two_regions_at_ratio_045_mark_a_segmentation_hard_negative(tracker):
    tracker.areas.clear()
    tracker.areas.append(400.0)
    tracker.uncertainty = 1.0
    # contour areas: 19·19 = 361 and 19·(19·0.45≈8.55 -> 9 rows: 19·8 = 152 => 0.42)
    two = rect_mask(128, [(10, 10, 20, 20), (60, 60, 20, 9)])
    result = seg_result(two)
    assert result.second_region_ratio() == pytest.approx(152 / 361)
    tracker._mask_to_state(result, np.array([20.0, 20.0]))
    assert tracker.segm_hard_negative
    smaller = seg_result(rect_mask(128, [(10, 10, 20, 20), (60, 60, 20, 7)]))  # 19·6/361 = 0.32
    tracker._mask_to_state(smaller, np.array([20.0, 20.0]))
    assert not tracker.segm_hard_negative
    vot = dataclasses.replace(tracker.cfg.segmentation, hard_negative_region_ratio=0.25)
    assert smaller.second_region_ratio() > vot.hard_negative_region_ratio


def test_rule04_memory_sample_is_an_own_45x_crop_with_more_than_50_pixels(tracker, monkeypatch):
    calls = []

    def fake(image, center, size, memory=(), factor=None, keep_all=False):
        calls.append(factor)
        return seg_result(rect_mask(64, [(0, 0, 5, 10 if len(calls) == 1 else 14)]))  # 4·9 = 36, 4·13 = 52
    monkeypatch.setattr(tracker.segmenter, "segment", fake)
    monkeypatch.setattr(tracker.segmenter, "prepare_memory", lambda features, mask: ("prepared", mask.shape))
    before = len(tracker.memory)
    tracker._add_memory_sample(frame(), np.array([60.0, 38.0]))
    assert len(tracker.memory) == before and calls == [4.5]
    tracker._add_memory_sample(frame(), np.array([60.0, 38.0]))
    assert len(tracker.memory) == before + 1 and tracker.memory.samples()[-1] == ("prepared", (1, 64, 64))


# ------------------------------------------------------------------- confidence (5)


def test_rule05_response_confidence_of_a_hand_built_map():
    scores = torch.zeros(4, 4)
    scores[1, 2], scores[3, 0] = 2.0, -1.0  # smax 2, smin -1: (s − smin)² = 9, 0 and fourteen 1s
    expected = 2.0 * 3.0 ** 2 / ((9 + 0 + 14) / 16)
    assert response_confidence(scores) == pytest.approx(expected)
    dcf = CorrelationFilter(dataclasses.replace(DcfConfig(), upsample_response=False, hann_window=False), 18)
    response = torch.zeros(19, 19)
    response[9, 9], response[0, 0] = 1.0, -0.5
    loc = dcf.localize(response, (2.0, 2.0))
    assert loc.confidence == pytest.approx(response_confidence(response))


# ------------------------------------------------------------------- DCF (10-18)


def test_rule11_official_thresholds():
    cfg = DcfConfig()
    assert (cfg.target_not_found_threshold, cfg.distractor_threshold) == (-1.0, 100.0)
    dcf = CorrelationFilter(dataclasses.replace(cfg, upsample_response=False, hann_window=False), 18)
    response = torch.full((19, 19), -0.9)
    response[9, 9] = -0.5
    assert dcf.localize(response, (2.0, 2.0)).flag != "not_found"  # -0.5 > -1
    response[9, 9] = -1.5
    response[:] = -1.5
    assert dcf.localize(response, (2.0, 2.0)).flag == "not_found"


def test_rule10_filter_memory_update_ignores_the_flag(monkeypatch):
    tracker = make_tracker(dcf={"train_skipping": 100})
    tracker.initialize(frame(), {"init_bbox": [50.0, 30.0, 20.0, 16.0]})
    from pytracking.tracker.jcat.dcf import Localization
    monkeypatch.setattr(tracker.dcf, "localize", lambda r, c: Localization((0.0, 0.0), 1.0, "uncertain", 1.0))
    added = []
    monkeypatch.setattr(tracker.dcf, "add_sample", lambda *a: added.append(a[2]))
    tracker.track(frame(1), {})
    assert added == [DcfConfig().learning_rate]
    switched = make_tracker(dcf={"train_skipping": 100, "train_on_flag_only": True})
    switched.initialize(frame(), {"init_bbox": [50.0, 30.0, 20.0, 16.0]})
    monkeypatch.setattr(switched.dcf, "localize", lambda r, c: Localization((0.0, 0.0), 1.0, "uncertain", 1.0))
    monkeypatch.setattr(switched.dcf, "add_sample", lambda *a: added.append(a[2]))
    switched.track(frame(1), {})
    assert len(added) == 1


def test_rule12_27_augmented_samples_count_order_and_shapes():
    augs = augment.official_augmentations(288)
    kinds = [a.kind for a in augs]
    assert len(augs) == 27 and kinds.count("shift") == 8 and kinds.count("rotate") == 12
    assert kinds.count("blur") == 5 and kinds.count("flip") == 1 and kinds[0] == "identity"
    assert augs[1].shift == (36, 36) and augs[5].shift == (108, 108)  # 0.25, 0.75 of 144 px
    assert augment.expanded_size(288) == 576
    image = np.random.default_rng(0).random((576, 576, 3)).astype(np.float32)
    outs = [augment.apply(a, image, 288) for a in augs]
    assert all(o.shape == (288, 288, 3) for o in outs)
    np.testing.assert_array_equal(outs[0], image[144:432, 144:432])
    np.testing.assert_array_equal(outs[1], image[108:396, 108:396])  # content moves by +36 px
    np.testing.assert_array_equal(outs[9], image[144:432, 144:432][:, ::-1])
    x = np.arange(-4, 5, dtype=np.float64)
    k = np.exp(-x ** 2 / 8)
    k /= k.sum()  # σ = 2 -> radius ceil(2σ) = 4
    blurred = outs[14]  # σ = (2, 2)
    direct = (image[140:149, 140:149, 0] * np.outer(k, k)).sum()
    assert blurred[0, 0, 0] == pytest.approx(direct, abs=1e-4)


def test_rule12_tracker_trains_on_27_samples_with_shifted_labels():
    tracker = make_tracker(dcf={"augmentation": "official"})
    tracker.initialize(frame(), {"init_bbox": [50.0, 30.0, 20.0, 16.0]})
    assert tracker.dcf.num_init == 27 and tracker.dcf.samples.shape[0] == DcfConfig().memory_size
    labels = tracker.dcf.labels[:27]
    peaks = [divmod(int(torch.argmax(y)), y.shape[1]) for y in labels]
    # sample 128 px, 8 cells: shift 0.25·64 = 16 px = 1 cell, 0.75·64 = 48 px = 3 cells
    assert peaks[1][0] - peaks[0][0] == 1 and peaks[5][0] - peaks[0][0] == 3
    assert peaks[2][0] - peaks[0][0] == -1 and peaks[2][1] - peaks[0][1] == 1
    assert all(p == peaks[0] for p in peaks[9:])


def test_rule13_14_filter_update_minimises_penalised_mlu_objective():
    """Repeated updates (one Gauss-Newton step each) reach a point where autograd's gradient of
    Σ w‖mlu(A f) − y‖² + λ‖(p pᵀ) ⊙ f‖² vanishes."""
    cfg = dataclasses.replace(DcfConfig(), projection_dim=4, upsample_response=False, memory_size=6)
    dcf = CorrelationFilter(cfg, 10)
    gen = torch.Generator().manual_seed(0)
    x = normalize_features(torch.randn(3, 6, 10, 10, generator=gen))
    c = dcf.center_index
    y = torch.stack([dcf.label((c + i, c - i), 2.0) for i in range(3)])
    dcf.initialize(x, y)
    for _ in range(30):
        dcf.optimize_filter(20)
    f = dcf.filter.clone().requires_grad_(True)
    z, w = dcf.samples[:3], dcf.weights[:3]
    residual = F.elu(F.leaky_relu(F.conv2d(z, f, padding=2)[:, 0], 1 / 0.05), 0.05) - dcf.labels[:3]
    p = torch.tensor([1.0, 0.3, 0.3, 1.0])
    loss = (w.view(-1, 1, 1) * residual ** 2).sum() + 0.1 * ((torch.outer(p, p) * f) ** 2).sum()
    (grad,) = torch.autograd.grad(loss, f)
    assert grad.abs().max() < 1e-3 * max(1.0, float(loss))
    values = torch.linspace(-1, 1, 21)
    torch.testing.assert_close(mlu(values, 0.05), F.elu(F.leaky_relu(values, 20.0), 0.05))


def test_rule15_16_relative_learning_rate_and_replaceable_initial_samples():
    cfg = dataclasses.replace(DcfConfig(), projection_dim=4, memory_size=5, upsample_response=False)
    dcf = CorrelationFilter(cfg, 8)
    x = normalize_features(torch.randn(2, 6, 8, 8, generator=torch.Generator().manual_seed(1)))
    dcf.initialize(x, torch.zeros(2, 9, 9))
    lr = 0.5
    # independent simulation of pytracking's update_sample_weights (no minimum weight)
    w, prev, slots = [0.5, 0.5, 0.0, 0.0, 0.0], None, []
    for _ in range(12):
        r = min(range(5), key=lambda i: w[i])
        if prev is None:
            w = [v / (1 - lr) for v in w]
            w[r] = lr
        else:
            w[r] = w[prev] / (1 - lr)
        total = sum(w)
        w = [v / total for v in w]
        prev = r
        slots.append(r)
        got = dcf.add_sample(x[:1], torch.zeros(9, 9), lr)
        assert got == r
        np.testing.assert_allclose(dcf.weights.numpy(), w, rtol=1e-5)
    assert slots[:3] == [2, 3, 4] and {0, 1} <= set(slots[3:])  # initial samples get replaced
    assert w[slots[-1]] / w[slots[-2]] == pytest.approx(1 / (1 - lr))  # relative rate


def test_rule17_cg_every_tenth_frame_and_on_hard_negatives_without_a_sample(monkeypatch):
    tracker = make_tracker()
    tracker.initialize(frame(), {"init_bbox": [50.0, 30.0, 20.0, 16.0]})
    from pytracking.tracker.jcat.dcf import Localization
    flags = {3: "hard_negative"}
    monkeypatch.setattr(tracker.dcf, "localize",
                        lambda r, c: Localization((0.0, 0.0), 1.0, flags.get(tracker.frame, "normal"), 1.0))
    monkeypatch.setattr(tracker, "_add_filter_sample", lambda *a: None)  # no sample is ever stored
    runs = []
    monkeypatch.setattr(tracker.dcf, "optimize_filter", lambda iters: runs.append((tracker.frame, iters)))
    for t in range(1, 21):
        tracker.track(frame(t), {})
    assert runs == [(3, 5), (10, 5), (20, 5)]


def test_rule18_upsampled_response_interpolates_and_is_windowed():
    n, m = 18, 288
    r = np.random.default_rng(0).normal(size=n)
    spectrum = np.fft.fft(r)
    p = np.arange(m) * n / m
    direct = np.zeros(m)
    for k in range(-(n // 2), n // 2 + 1):  # Nyquist at both ±n/2 with full weight (pytracking)
        direct += (spectrum[k % n] * np.exp(2j * np.pi * k * p / n)).real
    np.testing.assert_allclose(fourier_upsample_matrix(n, m).double().numpy() @ r, direct / n, atol=1e-4)
    window = centred_hann_window_2d(m)
    assert float(window[144, 144]) == 1.0
    assert float(window[144, 0]) == pytest.approx(0.5 * (1 + math.cos(2 * math.pi * 144 / 290)), rel=1e-4)
    cfg = dataclasses.replace(DcfConfig(), hann_window=False)
    dcf = CorrelationFilter(cfg, n)
    response = torch.zeros(19, 19)
    rows = torch.arange(18.0)
    response[:18, :18] = torch.exp(-0.5 * ((rows[:, None] - 11) ** 2 + (rows[None, :] - 6) ** 2))
    loc = dcf.localize(response, (2.0, 2.0))
    assert loc.displacement == pytest.approx((2.0, -3.0), abs=1 / 16 + 1e-6)  # 1-px resolution


# ------------------------------------------------------------------- features (19)


def test_rule19_separate_filter_backbone():
    tracker = make_tracker(dcf={"backbone": "separate"})
    assert tracker.filter_backbone is not None
    features = tracker._filter_features(np.zeros((1, 64, 64, 3), np.uint8))
    assert features.shape[1] == 1024  # ResNet-50 layer3, whatever the JCAT net's backbone (resnet18: 256)


# ------------------------------------------------------------------- mask -> box and state (20-25)


def test_rule20_reference_mask_is_the_networks_segmentation_times_the_dilated_box(monkeypatch):
    tracker = make_tracker()
    net = tracker.net

    def everywhere(test, train, mask, dist, memory=None):  # target probability ~1 everywhere
        logits = torch.zeros(1, 2, *dist.shape[-2:])
        logits[:, 0] = 10.0
        return logits
    monkeypatch.setattr(net, "segment", everywhere)
    tracker.initialize(frame(), {"init_bbox": [50.0, 30.0, 20.0, 16.0]})
    ref = tracker.segmenter.ref_mask[0].numpy()
    side = math.ceil(math.sqrt(20 * 16) * 4.0)
    scale = 64 / side
    window = np.zeros((side, side), np.float32)
    x0, y0 = round(60 - side / 2), round(38 - side / 2)
    window[30 - y0:46 - y0, 50 - x0:70 - x0] = 1  # the box inside the crop window (all inside)
    box = cv2.resize(window, (64, 64), interpolation=cv2.INTER_LINEAR)
    kernel = max(5, round(0.05 * 16 * scale))
    expected = cv2.dilate(box, np.ones((kernel, kernel), np.uint8))
    np.testing.assert_allclose(ref, expected, atol=1e-6)
    assert tracker.areas[0] == pytest.approx(float(expected.sum()))


def test_rule21_fit_bbox_to_mask_rotated_ellipse():
    mask = np.zeros((200, 200), np.uint8)
    cv2.ellipse(mask, (100, 100), (60, 24), 30, 0, 360, 1, thickness=-1)
    corners = fit_bbox_to_mask(mask, rotated=True)
    edges = [corners[(i + 1) % 4] - corners[i] for i in range(4)]
    long_edge = max(edges, key=np.linalg.norm)
    angle = math.degrees(math.atan2(long_edge[1], long_edge[0])) % 180
    assert angle == pytest.approx(30.0, abs=2.0)
    assert corners.mean(axis=0) == pytest.approx([100.5, 100.5], abs=1.0)
    lengths = sorted(np.linalg.norm(e) for e in edges)
    assert 0.7 * 120 < lengths[-1] <= 122 and 0.7 * 48 < lengths[0] <= 50  # shrunk inside the ellipse
    inside = np.zeros_like(mask)
    cv2.fillPoly(inside, [np.round(corners - 0.5).astype(np.int32)], 1)
    assert (inside & mask).sum() >= 0.6 * mask.sum()
    square = rect_mask(50, [(10, 12, 20, 8)])
    np.testing.assert_array_equal(fit_bbox_to_mask(square, rotated=False), [[10, 12], [30, 12], [30, 20], [10, 20]])
    assert fit_bbox_to_mask(rect_mask(50, [(10, 10, 5, 5)]), rotated=False) is None  # 16 px <= 50


def test_rule21_22_23_area_gates(tracker):
    tracker.uncertainty = 1.0
    center = np.array([64.0, 64.0])

    def gate(area_side: int, mean: float):
        tracker.areas.clear()
        tracker.areas.append(mean)
        tracker.pos = np.array([0.0, 0.0])
        mask = rect_mask(128, [(40, 40, area_side, area_side)])
        corners = tracker._mask_to_state(seg_result(mask), center)
        return corners, tracker.pos.copy(), list(tracker.areas)

    # contour area of an s×s square: (s−1)²; mean 1000
    corners, pos, areas = gate(39, 1000.0)  # 1444: r = 0.44 -> move, report, accept
    assert corners is not None and pos == pytest.approx([59.5, 59.5]) and areas == [1000.0, 1444.0]
    corners, pos, areas = gate(51, 1000.0)  # 2500: r = 1.5 -> report, no move
    assert corners is not None and pos.tolist() == [0.0, 0.0] and areas == [1000.0, 2500.0]
    corners, pos, areas = gate(61, 1000.0)  # 3600: r = 2.6 -> nothing
    assert corners is None and pos.tolist() == [0.0, 0.0] and areas == [1000.0]
    corners, _, _ = gate(8, 40.0)  # 49 px: not more than 50
    assert corners is None
    box, _, _ = gate(39, 1444.0)
    np.testing.assert_allclose(box.min(axis=0), [40, 40])
    np.testing.assert_allclose(box.max(axis=0), [79, 79])


def test_rule24_one_scale_factor_bounded_and_applied_next_frame(tracker):
    tracker.uncertainty = 1.0
    tracker._update_state(tracker.pos)  # size = base size × current scale
    scale, size = tracker.target_scale, tracker.size.copy()
    side = int(round(1.3 * scale * 128 / 4.5))  # a region whose scale estimate is 1.3 × the current
    tracker.areas.clear()
    tracker.areas.append(float(side * side))
    tracker._mask_to_state(seg_result(rect_mask(128, [(20, 20, side, side)])), np.array([64.0, 64.0]))
    assert tracker.target_scale == pytest.approx(scale * 1.05)  # bounded to +5 %
    np.testing.assert_array_equal(tracker.size, size)  # the size follows on the next certain frame
    tracker._update_state(tracker.pos)
    np.testing.assert_allclose(tracker.size / size, [1.05, 1.05])  # one factor: aspect ratio kept
    tracker.uncertainty = 3.5  # u >= 3.5: no scale estimate
    before = tracker.target_scale
    tracker.areas.append(1444.0)
    tracker._mask_to_state(seg_result(rect_mask(128, [(20, 20, 60, 60)])), np.array([64.0, 64.0]))
    assert tracker.target_scale == before


def test_rule25_position_moves_to_the_peak_when_uncertain_and_segmentation_fails(monkeypatch):
    tracker = make_tracker()
    tracker.initialize(frame(), {"init_bbox": [50.0, 30.0, 20.0, 16.0]})
    from pytracking.tracker.jcat.dcf import Localization
    monkeypatch.setattr(tracker.dcf, "localize", lambda r, c: Localization((1.0, 2.0), 1.0, "normal", 1.0))
    monkeypatch.setattr(tracker.sample_filter, "uncertainty", lambda t, s: 5.0)  # 3 <= u < 10
    monkeypatch.setattr(tracker.segmenter, "segment", lambda *a, **k: seg_result(np.zeros((64, 64), np.uint8)))
    pos, size = tracker.pos.copy(), tracker.size.copy()
    cell = tracker._cell_px()
    out = tracker.track(frame(1), {})
    np.testing.assert_allclose(tracker.pos, pos + np.array([2.0, 1.0]) * cell)
    np.testing.assert_array_equal(tracker.size, size)
    np.testing.assert_allclose(out["target_bbox"][:2], tracker.pos - size / 2)


# ------------------------------------------------------------------- inputs (26-29)


def test_rule26_crops_are_whole_pixel_windows_with_edge_replication():
    image = np.random.default_rng(2).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    crop, transform = sample_target(image, np.array([45.3, 5.2]), np.array([6.0, 5.0]), 4.0, 32, off_by_one=False)
    side = math.ceil(math.sqrt(30) * 4.0)  # 22
    x0, y0 = round(45.3 - 11), round(5.2 - 11)
    padded = np.pad(image, ((side, side), (side, side), (0, 0)), mode="edge")
    window = padded[y0 + side:y0 + 2 * side, x0 + side:x0 + 2 * side]
    np.testing.assert_array_equal(crop, cv2.resize(window, (32, 32)))
    assert (transform.x0, transform.y0, transform.scale) == (x0, y0, 32 / side)
    official, _ = sample_target(image, np.array([45.3, 5.2]), np.array([6.0, 5.0]), 4.0, 32)
    shifted = padded.copy()
    shifted[:, side + 49] = shifted[:, side + 48]  # official: the last column is replaced by the one before
    shifted[:, side + 50:] = shifted[:, side + 48:side + 49]
    window = shifted[y0 + side:y0 + 2 * side, x0 + side:x0 + 2 * side]
    np.testing.assert_array_equal(official, cv2.resize(window, (32, 32)))
    patch, t = sample_patch(image, np.array([10.9, 20.2]), 8.0, 8)
    # index position (10.4, 19.7) -> truncated (10, 19); window [10 − 3, 10 + 4] x [19 − 3, 19 + 4]
    np.testing.assert_array_equal(patch, image[16:24, 7:15].astype(np.float32))
    assert (t.x0, t.y0) == (7.0, 16.0)


def test_rule27_distance_map_centre_and_position_margin(tracker):
    segmenter = TargetSegmenter(tracker.net, dataclasses.replace(tracker.cfg.segmentation, output_size=384), "cpu")
    x = np.linspace(1, 384, 384) - 384 / 2  # official create_dist
    official = np.sqrt(x[None, :] ** 2 + x[:, None] ** 2)
    np.testing.assert_allclose(segmenter.dist[0].numpy(), official, atol=1e-3)
    tracker.size = np.array([20.0, 10.0])
    tracker.target_scale = tracker.size[0] / tracker.base_size[0]
    tracker._update_state(np.array([-50.0, 500.0]))
    size = tracker.size
    np.testing.assert_allclose(tracker.pos, [-0.3 * size[0], tracker.height + 0.3 * size[1]])


def test_rule28_initial_mask_mode(monkeypatch):
    tracker = make_tracker()
    seen = []
    mask = np.zeros((96, 128), np.uint8)
    mask[30:46, 50:70] = 1
    tracker.initialize(frame(), {"init_bbox": [50.0, 30.0, 20.0, 16.0], "init_mask": mask})
    assert tracker.segmenter.threshold == 0.2 and tracker.scale_bounds == (0.9, 1.1)
    np.testing.assert_array_equal(tracker.segmenter.ref_mask[0].numpy() > 0, tracker.segmenter.ref_mask[0].numpy() > 0.1)
    monkeypatch.setattr(tracker.sample_filter, "uncertainty", lambda t, s: 50.0)  # u >= 10: still segments
    real = tracker.segmenter.segment
    monkeypatch.setattr(tracker.segmenter, "segment", lambda *a, **k: (seen.append(k.get("keep_all")), real(*a, **k))[1])
    tracker.track(frame(1), {})
    assert seen == [True]
    two = seg_result(rect_mask(64, [(2, 2, 20, 20), (40, 40, 10, 10)]))
    assert two.crop_mask.sum() > two.region_mask.sum()  # all regions kept in the reported mask


def test_rule29_official_vot_parameters():
    vot = load_experiment("jcat", "default_vot").tracking
    assert (vot.dcf.sample_size, vot.dcf.image_sample_size, vot.dcf.memory_size) == (352, 360, 300)
    assert vot.dcf.resample_at_new_position and vot.sample_filter.confidence == "none"
    assert (vot.memory.hard_negative_interval, vot.memory.regular_updates) == (20, False)
    assert (vot.segmentation.box_mode, vot.segmentation.hard_negative_region_ratio) == ("rotated", 0.25)
    base = load_experiment("jcat", "default").tracking
    assert (base.dcf.sample_size, base.dcf.memory_size, base.memory.hard_negative_interval) == (288, 250, 10)
    assert base.dcf.augmentation == "official" and base.sample_filter.confidence == "response"
