"""The online JCAT tracker and its parts: sample filter, memory bank, mask -> box, edge cases."""
from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest
import torch

from ltr.admin.checkpoint import save_checkpoint
from ltr.config.loader import from_dict
from ltr.models.jcat.experiment import JcatExperiment, MemoryConfig, SampleFilterConfig
from ltr.models.jcat.network import jcat_kwargs
from ltr.models.registry import NETWORKS
from pytracking.tracker.base import TRACKERS, SequenceInfo
from pytracking.tracker.jcat.dcf import Localization
from pytracking.tracker.jcat.memory import SegmentationMemory
from pytracking.tracker.jcat.sample_filter import SampleFilter
from pytracking.tracker.jcat.segmentation import (
    TargetSegmenter,
    largest_contour,
    mask_to_box,
    mask_to_rotated_rect,
    rasterize_region,
    rect_corners,
)
from pytracking.tracker.jcat.tracker import JcatTracker

# ---------------------------------------------------------------------------- sample filter


def test_rule08_uncertainty_from_the_fifth_tracked_frame():
    sf = SampleFilter(SampleFilterConfig())
    assert [sf.uncertainty(t, 0.5) for t in range(1, 5)] == [0.0] * 4  # official u = 0 before
    assert sf.uncertainty(5, 0.5) == pytest.approx(2.0)  # budget [1] / 0.5


def test_rule07_response_budget_starts_with_one():
    sf = SampleFilter(SampleFilterConfig())
    assert list(sf.responses) == [1.0]
    sf.add_response(0.0, 0.4)
    assert sf.uncertainty(5, 0.2) == pytest.approx((1.0 + 0.4) / 2 / 0.2)
    assert list(SampleFilter(SampleFilterConfig(response_budget_init=None)).responses) == []


def test_rule09_negative_peak_counts_as_certain_unless_switched():
    sf = SampleFilter(SampleFilterConfig())
    u = sf.uncertainty(6, -0.2)
    assert u == pytest.approx(-5.0) and sf.decide(u, 1.0).update_state  # official: u < 0 is "certain"
    fixed = SampleFilter(SampleFilterConfig(negative_peak_uncertain=True))
    assert fixed.uncertainty(6, -0.2) == math.inf and not fixed.decide(math.inf, 1.0).update_state


def test_rule06_confidence_ratio_is_one_until_the_fifth_frame():
    sf = SampleFilter(SampleFilterConfig())
    for t in range(1, 5):
        ratio = sf.confidence_ratio(t, 3.0 * t)
        assert ratio == 1.0
        sf.add_confidence(ratio, 3.0 * t)  # 1 > 0.3: budgeted
    assert list(sf.confidences) == [3.0, 6.0, 9.0, 12.0]
    assert sf.confidence_ratio(5, 15.0) == pytest.approx(15.0 / 7.5)
    assert math.isnan(SampleFilter(SampleFilterConfig(start_frame=0)).confidence_ratio(1, 2.0))  # empty budget
    assert SampleFilter(SampleFilterConfig(confidence="none")).confidence_ratio(9, 0.0) == 1.0  # VOT


def test_gates_follow_the_official_tracker():
    sf = SampleFilter(SampleFilterConfig())
    d = sf.decide(2.9, 0.16)
    assert (d.update_state, d.update_filter, d.segment) == (True, True, True)
    d = sf.decide(2.9, 0.15)
    assert (d.update_state, d.update_filter) == (True, False)
    d = sf.decide(3.0, 5.0)
    assert (d.update_state, d.update_filter, d.segment) == (False, False, True)
    assert not sf.decide(10.0, 1.0).segment and not sf.decide(math.nan, math.nan).update_filter
    # budgets: a response only when u < 3, a confidence only when c > 0.3
    sf.add_response(3.0, 9.0)
    sf.add_confidence(0.3, 9.0)
    assert 9.0 not in sf.responses and 9.0 not in sf.confidences


def test_budgets_are_windows_of_the_last_values():
    sf = SampleFilter(SampleFilterConfig(response_window=25, confidence_window=5))
    for frame in range(1, 40):
        sf.add_response(1.0, float(frame))
        sf.add_confidence(1.0, 1.0 + frame)
    assert list(sf.responses) == [float(f) for f in range(15, 40)]
    assert list(sf.confidences) == [1.0 + f for f in range(35, 40)]


# ---------------------------------------------------------------------------- memory bank


def schedule(mem: SegmentationMemory, hard: set[int], frames: int = 40, uncertain: set[int] = frozenset()) -> list[int]:
    added = []
    for t in range(1, frames + 1):
        if mem.should_add(t, t in hard, 5.0 if t in uncertain else 1.0):
            mem.mark(t)
            added.append(t)
    return added


def test_rule02_03_memory_schedule_over_40_frames():
    """Counted since the last update (not t % 10 / t % 20); regular updates on tracked frames 1-9."""
    assert schedule(SegmentationMemory(MemoryConfig()), set()) == list(range(1, 10)) + [29]
    assert schedule(SegmentationMemory(MemoryConfig()), set(range(1, 41))) == [9, 19, 29, 39]
    # hard negatives from frame 12: 10 frames after the last update (9) -> 19, 29, 39
    assert schedule(SegmentationMemory(MemoryConfig()), set(range(12, 41))) == list(range(1, 10)) + [19, 29, 39]
    # uncertain frames (u >= 3) do not update and do not reset the counter
    assert schedule(SegmentationMemory(MemoryConfig()), set(), uncertain={29, 30}) == list(range(1, 10)) + [31]
    # official VOT: hard negatives only, every 20 frames
    vot = SegmentationMemory(MemoryConfig(hard_negative_interval=20, regular_updates=False))
    assert schedule(vot, set(range(5, 41))) == [19, 39]


def test_memory_is_fifo_of_four():
    mem = SegmentationMemory(MemoryConfig())
    for i in range(6):
        mem.add(f"sample {i}")
    assert len(mem) == 4
    assert mem.samples() == ["sample 2", "sample 3", "sample 4", "sample 5"]
    assert len(SegmentationMemory(MemoryConfig(size=0))) == 0


def test_template_side_work_is_done_once_per_reference_and_memory_sample(monkeypatch):
    """Per tracked frame the head computes the position features of the test crop only; a memory
    sample's are computed once, when it is added, and the reference's (with its attention
    tokens) once at initialisation."""
    torch.manual_seed(0)
    tracker = JcatTracker(from_dict(JcatExperiment, FAST))
    head = tracker.net.segm_predictor
    calls = {"position_features": 0, "attention_tokens": 0, "segment_prepared": 0, "memory": 0}
    for name in ("position_features", "attention_tokens"):
        original = getattr(head, name)
        monkeypatch.setattr(head, name, lambda *a, _f=original, _n=name: (calls.__setitem__(_n, calls[_n] + 1), _f(*a))[1])
    for name, key in (("segment_prepared", "segment_prepared"), ("prepare_memory", "memory")):
        original = getattr(tracker.net, name)
        monkeypatch.setattr(tracker.net, name, lambda *a, _f=original, _k=key: (calls.__setitem__(_k, calls[_k] + 1), _f(*a))[1])
    sequence = list(frames(8))
    tracker.initialize(sequence[0][0], {"init_bbox": list(sequence[0][1]), "seed": 0})
    at_init = dict(calls)
    for image, _ in sequence[1:]:
        tracker.track(image, {})
    per_frame = {k: calls[k] - at_init[k] for k in calls}
    assert per_frame["segment_prepared"] >= 5 and per_frame["memory"] >= 2 and len(tracker.memory) >= 2
    assert per_frame["position_features"] == per_frame["segment_prepared"] + per_frame["memory"]
    assert per_frame["attention_tokens"] == 0 and at_init["attention_tokens"] >= 1


# ---------------------------------------------------------------------------- mask -> box


def test_axis_aligned_box_of_rectangle_mask():
    mask = np.zeros((60, 80), np.uint8)
    mask[10:30, 20:55] = 1
    mask[50:52, 2:4] = 1  # a smaller region is ignored
    assert mask_to_box(mask).tolist() == [20.0, 10.0, 35.0, 20.0]
    assert mask_to_box(np.zeros((5, 5), np.uint8)) is None


@pytest.mark.parametrize("angle", [0.0, 20.0, 35.0, 60.0])
def test_rotated_rect_of_rotated_rectangle(angle):
    rect = ((50.0, 40.0), (40.0, 16.0), angle)
    mask = np.zeros((100, 100), np.uint8)
    cv2.fillPoly(mask, [np.round(cv2.boxPoints(rect)).astype(np.int32)], 1)
    (cx, cy), (w, h), got = mask_to_rotated_rect(mask)
    if w < h:  # cv2 may report the rectangle with swapped sides and angle - 90
        w, h, got = h, w, got + 90.0
    assert (cx, cy) == pytest.approx((50.5, 40.5), abs=1.0)
    assert (w, h) == pytest.approx((41.0, 17.0), abs=2.0)
    assert ((got - angle + 90) % 180) - 90 == pytest.approx(0.0, abs=3.0)
    assert rect_corners(((0.0, 0.0), (2.0, 2.0), 0.0)).shape == (4, 2)


def test_rasterize_region_box_polygon_and_subpixel():
    assert rasterize_region([2, 3, 4, 5], (20, 20)).sum() == 20
    poly = rasterize_region([2, 2, 12, 2, 12, 8, 2, 8], (20, 20))
    assert mask_to_box(poly) == pytest.approx([2.0, 2.0, 10.0, 6.0], abs=1.0)
    assert rasterize_region([5.1, 5.1, 0.2, 0.2], (10, 10)).sum() == 1


# ---------------------------------------------------------------------------- the tracker

FAST = {
    "model": {"backbone": "resnet18"},
    "tracking": {"device": "cpu",
                 "dcf": {"sample_size": 128, "projection_dim": 8, "init_gn_iters": 2, "init_cg_iters": 5,
                         "train_skipping": 2, "augmentation": "flip"},  # 27 samples: tests/test_jcat_official.py
                 "segmentation": {"output_size": 64}},
}


@pytest.fixture(scope="module")
def tracker() -> JcatTracker:
    torch.manual_seed(0)
    return JcatTracker(from_dict(JcatExperiment, FAST))


def frames(n: int, size=(96, 128), box=(50.0, 30.0, 20.0, 16.0), step=(3.0, 1.0), gray=False):
    """A textured rectangle moving over a noise background; yields (frame, box)."""
    rng = np.random.default_rng(0)
    height, width = size
    background = rng.integers(0, 120, (height, width, 3), dtype=np.uint8)
    texture = rng.integers(130, 255, (height, width, 3), dtype=np.uint8)
    x, y, w, h = box
    for i in range(n):
        frame = background.copy()
        x0, y0 = int(round(x + i * step[0])), int(round(y + i * step[1]))
        xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + int(w), width), min(y0 + int(h), height)
        if xb > xa and yb > ya:
            frame[ya:yb, xa:xb] = texture[: yb - ya, : xb - xa]
        yield (frame[:, :, 0] if gray else frame), (x + i * step[0], y + i * step[1], w, h)


def run(tracker: JcatTracker, n: int, **kwargs) -> list[dict]:
    outs = []
    for i, (frame, box) in enumerate(frames(n, **kwargs)):
        if i == 0:
            tracker.initialize(frame, {"init_bbox": list(box), "seed": 0,
                                       "sequence": SequenceInfo(dataset="synthetic", name="t")})
            continue
        out = tracker.track(frame, {})
        assert len(out["target_bbox"]) == 4 and np.isfinite(out["target_bbox"]).all()
        assert out["target_bbox"][2] > 0 and out["target_bbox"][3] > 0
        assert out["segmentation"].shape == frame.shape[:2] and out["segmentation"].dtype == np.uint8
        assert math.isfinite(out["score"])
        outs.append(out)
    return outs


def test_registered_and_params_schema():
    assert TRACKERS.get("jcat") is JcatTracker
    assert JcatTracker.params_schema is JcatExperiment


def test_tracks_a_moving_target(tracker):
    outs = run(tracker, 6)
    assert len(outs) == 5


@pytest.mark.parametrize("hold", [None, 5.0])
def test_hold_position_keeps_a_lost_target_where_it_was_last_seen(hold, monkeypatch):
    """A far, weak peak on an uncertain frame (u = 50, so no segmentation): officially the position
    follows the peak; with ``hold_position_uncertainty`` at or below u it stays."""
    params = from_dict(JcatExperiment, {**FAST, "tracking": {
        **FAST["tracking"], "sample_filter": {"hold_position_uncertainty": hold}}})
    torch.manual_seed(0)
    tracker = JcatTracker(params)
    (first, box), (second, _) = list(frames(2))
    tracker.initialize(first, {"init_bbox": list(box)})
    before = tracker.pos.copy()
    monkeypatch.setattr(tracker.dcf, "localize", lambda response, cells: Localization((2.0, -3.0), 0.01, "normal"))
    monkeypatch.setattr(tracker.sample_filter, "uncertainty", lambda frame, score: 50.0)
    out = tracker.track(second, {})
    expected = np.zeros(2) if hold is not None else np.array([-3.0, 2.0]) * tracker._cell_px()
    assert tracker.pos - before == pytest.approx(expected)
    assert out["target_bbox"][:2] == pytest.approx(list(tracker.pos - tracker.size / 2))


def oversegmenting(tracker: JcatTracker, grow: float):
    """``TargetSegmenter.segment`` whose mask is always the tracker's current box grown ``grow``x
    about its centre (the crop, transform and features stay the real ones)."""
    real = TargetSegmenter.segment

    def segment(self, image, center, size, memory=(), factor=None, keep_all=False):
        result = real(self, image, center, size, memory, factor=factor, keep_all=keep_all)
        side = result.crop_mask.shape[0]
        box = np.r_[tracker.pos - grow * tracker.size / 2, grow * tracker.size]
        x, y, w, h = np.asarray(result.transform.box_to_crop(box), dtype=np.float64)
        mask = rasterize_region([x, y, w, h], (side, side))
        contour = largest_contour(mask)
        return dataclasses.replace(result, crop_mask=mask, region_mask=mask, contour=contour,
                                   areas=[float(cv2.contourArea(contour))], confidence=1.0)
    return segment


@pytest.mark.parametrize("calibrate", [False, True])
def test_scale_calibration_cancels_a_consistently_oversegmenting_net(calibrate, monkeypatch):
    """A net whose masks are always 1.5x the target: officially the scale estimate grows by the
    per-frame limit (1.05) every frame; calibrated on the first frame it stays."""
    params = from_dict(JcatExperiment, {**FAST, "tracking": {
        **FAST["tracking"], "segmentation": {**FAST["tracking"]["segmentation"], "calibrate_scale": calibrate}}})
    torch.manual_seed(0)
    tracker = JcatTracker(params)
    monkeypatch.setattr(TargetSegmenter, "segment", oversegmenting(tracker, 1.5))
    sequence = list(frames(4, step=(0.0, 0.0)))
    tracker.initialize(sequence[0][0], {"init_bbox": list(sequence[0][1])})
    initial = tracker.target_scale
    assert tracker.scale_calibration == pytest.approx(1 / 1.5 if calibrate else 1.0, rel=0.05)
    monkeypatch.setattr(tracker.sample_filter, "uncertainty", lambda frame, score: 0.0)
    for image, _ in sequence[1:]:
        tracker.track(image, {})
    expected = initial * (1.0 if calibrate else 1.05 ** 3)
    assert tracker.target_scale == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize("case", [
    dict(box=(100.0, 40.0, 20.0, 16.0), step=(12.0, 0.0)),  # leaves the image to the right
    dict(box=(60.0, 40.0, 2.0, 2.0)),  # a 2-pixel target
    dict(box=(0.0, 0.0, 128.0, 96.0), step=(0.0, 0.0)),  # the whole frame
    dict(gray=True),  # grayscale frames
    dict(size=(77, 101), box=(30.0, 20.0, 15.0, 11.0)),  # odd image size
])
def test_edge_cases_give_finite_outputs(tracker, case):
    run(tracker, 4, **case)


def test_rotated_mode_returns_polygon():
    params = from_dict(JcatExperiment, {**FAST, "tracking": {**FAST["tracking"], "segmentation": {
        "output_size": 64, "box_mode": "rotated"}}})
    torch.manual_seed(0)
    out = run(JcatTracker(params), 3)[-1]
    assert len(out["target_polygon"]) == 8 and np.isfinite(out["target_polygon"]).all()


def test_loads_weights_from_checkpoint(tmp_path, tracker, monkeypatch):
    monkeypatch.setenv("PYTRACKING_INFERENCE", "plain")  # the loaded weights as stored, not folded
    source = NETWORKS.build("jcat", **jcat_kwargs(tracker.params.model))
    path = save_checkpoint(tmp_path / "jcat.pth", source, "jcat", jcat_kwargs(tracker.params.model))
    loaded = JcatTracker(tracker.params, path)
    for (name, a), b in zip(source.state_dict().items(), loaded.net.state_dict().values()):
        assert torch.equal(a, b), name
    other = NETWORKS.build("tiny_net")
    save_checkpoint(tmp_path / "tiny.pth", other, "tiny_net", {})
    with pytest.raises(TypeError, match="not a JCAT network"):
        JcatTracker(tracker.params, tmp_path / "tiny.pth")


def test_export_strips_training_state_and_loads_strictly(tmp_path, tracker):
    from ltr.admin.checkpoint import build_network_from_checkpoint, load_checkpoint
    from pytracking.tracker.export import export

    trained = NETWORKS.build("jcat", **jcat_kwargs(tracker.params.model))  # the tracker's own net is folded
    optimizer = torch.optim.Adam(trained.segm_predictor.parameters())
    source = save_checkpoint(tmp_path / "train.pth", trained, "jcat", jcat_kwargs(tracker.params.model),
                             optimizer=optimizer, epoch=3)
    target = export(source, tmp_path / "ship.pth")
    assert target.stat().st_size < 0.25 * source.stat().st_size
    payload = load_checkpoint(target)
    assert payload["optimizer"] is None and payload["epoch"] == 3
    net = build_network_from_checkpoint(target)
    for (name, a), b in zip(trained.state_dict().items(), net.state_dict().values()):
        if name.startswith(("feature_extractor.layer4.", "feature_extractor.fc.")):
            assert not b.any(), name
        elif a.is_floating_point():
            torch.testing.assert_close(b, a, rtol=1e-3, atol=1e-3, msg=name)
        else:
            assert torch.equal(a, b), name


def test_shipped_tiny_checkpoint_follows_a_moving_target():
    from ltr.config.experiment import load_experiment
    from ltr.data.boxes import box_iou
    from pytracking.tracker.base.network import resolve_checkpoint

    params = load_experiment("jcat", "tiny", ["tracking.device=cpu"])
    if not resolve_checkpoint(params.tracking.checkpoint).is_file():
        pytest.skip("pytracking/networks/jcat_tiny.pth is not present")
    tracker = JcatTracker(params)
    ious, centre_errors = [], []
    for i, (frame, box) in enumerate(frames(10, size=(120, 160), box=(40.0, 40.0, 24.0, 20.0), step=(4.0, 2.0))):
        if i == 0:
            tracker.initialize(frame, {"init_bbox": list(box), "seed": 0})
            continue
        out = np.asarray(tracker.track(frame, {})["target_bbox"])
        ious.append(float(box_iou(out, np.asarray(box))))
        centre_errors.append(float(np.hypot(*(out[:2] + out[2:] / 2 - np.asarray(box[:2]) - np.asarray(box[2:]) / 2))))
    # it follows the 24x20 target moving 4.5 px a frame to within a few pixels; on this noise
    # texture (no object an ImageNet backbone knows) its mask spills over, so the box is too large
    assert max(centre_errors) < 5.0 and min(ious) > 0.35, (centre_errors, ious)


def test_amp_runs_the_networks_in_bf16_on_cpu_and_is_refused_without_native_bf16(monkeypatch):
    """tracking.amp: the segmentation net and the filter features run under bf16 autocast on a
    CPU (here forced to count as native) and the tracker still tracks; without native bf16 it
    is refused at load, naming the key."""
    import copy

    from ltr.models import precision

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda flags=None: True)
    config = copy.deepcopy(FAST)
    config["tracking"]["amp"] = True
    torch.manual_seed(0)
    amp = JcatTracker(from_dict(JcatExperiment, config))
    seen = []
    for name in ("extract_features", "segment_prepared"):
        original = getattr(amp.net, name)
        monkeypatch.setattr(amp.net, name, lambda *a, _f=original, _n=name, **k: (
            seen.append((_n, torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None)),
            _f(*a, **k))[1])
    outs = run(amp, 6)
    assert {dtype for _, dtype in seen} == {torch.bfloat16}
    assert {name for name, _ in seen} == {"extract_features", "segment_prepared"}
    assert all(out["score"] == out["score"] for out in outs)
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda flags=None: False)
    with pytest.raises(ValueError, match="tracking.amp.*no native bf16"):
        JcatTracker(from_dict(JcatExperiment, config))
