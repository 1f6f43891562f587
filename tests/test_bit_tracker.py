"""The online BIT tracker: box mapping, clipping, dynamic template updates, edge cases, configs.

Every test uses the tiny config with random weights (``tracking.checkpoint=null``); where the
exact box matters the network's head is replaced by a stub that returns a chosen prediction.
"""
from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch

from ltr.admin.checkpoint import save_checkpoint
from ltr.config.experiment import list_experiments, load_experiment
from ltr.models.bit.experiment import BitExperiment, BitTrackingConfig
from ltr.models.bit.network import bit_kwargs
from ltr.models.registry import NETWORKS
from pytracking.tracker.base import TRACKERS, SequenceInfo
from pytracking.tracker.bit import BitTracker
from pytracking.tracker.bit.templates import TemplateSlots

RANDOM = ["tracking.checkpoint=null"]


@pytest.fixture(scope="module")
def params() -> BitExperiment:
    return BitTracker.load_params("bit", "tiny", RANDOM)


@pytest.fixture(scope="module")
def tracker(params: BitExperiment) -> BitTracker:
    torch.manual_seed(0)
    return BitTracker(params)


def frame(width: int = 160, height: int = 120, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def stub_head(tracker: BitTracker, monkeypatch, pred: list[float], logit: float = 5.0) -> None:
    """Make ``forward_head`` return the normalised cxcywh ``pred`` and score logit ``logit``; the
    corner-map motion window is switched off, so ``pred`` is the box."""
    def fake(template_feats, search_feat, run_box_head=True, run_score_head=False):
        return {"pred_boxes": torch.tensor([pred]), "score_logits": torch.tensor([[logit]])}
    monkeypatch.setattr(tracker.net, "forward_head", fake)
    monkeypatch.setattr(tracker.cfg, "motion_window", None)


def assert_sane(box: list[float], width: int, height: int) -> None:
    x, y, w, h = box
    assert all(math.isfinite(v) for v in box)
    assert w > 0 and h > 0
    assert x >= 0 and y >= 0 and x + w <= width + 1e-6 and y + h <= height + 1e-6


def test_registered_with_the_bit_schema():
    assert TRACKERS.get("bit") is BitTracker
    assert BitTracker.params_schema is BitExperiment


def test_every_bit_experiment_loads_for_tracking():
    names = list_experiments("bit")
    assert {"default", "r50", "got10k_only", "vit_b", "tiny"} <= set(names)
    for name in names:
        cfg = load_experiment("bit", name)
        # STARK's crops; the tiny nets search 4.5x the box (chosen on the real benchmark's val split)
        assert cfg.tracking.search_factor == (4.5 if name.startswith("tiny") else 5.0)
        assert cfg.tracking.template_factor == 2.0
        assert cfg.tracking.intervals_for("trackingnet") == [25]


def test_update_intervals_per_benchmark():
    cfg = BitTrackingConfig()
    assert cfg.intervals_for("lasot") == [200] and cfg.intervals_for("vot2020") == [10]
    assert cfg.intervals_for("uav") == [200] and cfg.intervals_for(None) == [200]
    assert BitTrackingConfig(dataset="trackingnet").intervals_for("lasot") == [25]
    with pytest.raises(ValueError, match="default"):
        BitTrackingConfig(update_intervals={"lasot": [200]})


def test_random_init_is_warned(params, caplog):
    with caplog.at_level(logging.WARNING):
        BitTracker(params)
    assert "randomly initialised" in caplog.text


def test_uses_crop_sizes_of_the_model(tracker):
    assert (tracker.template_size, tracker.search_size) == (64, 160)


def test_box_maps_back_through_the_search_crop(tracker, monkeypatch):
    monkeypatch.setattr(tracker.cfg, "search_factor", 5.0)
    box = [60.0, 40.0, 20.0, 20.0]  # crop side ceil(20 * 5) = 100 px
    rate = tracker.cfg.scale_update_rate
    assert rate < 1  # bit/tiny damps its size updates; the undamped mapping is checked first
    tracker.cfg.scale_update_rate = 1.0
    tracker.initialize(frame(), {"init_bbox": box})
    stub_head(tracker, monkeypatch, [0.5, 0.5, 0.2, 0.2])
    out = tracker.track(frame(), {})
    np.testing.assert_allclose(out["target_bbox"], box, atol=1e-4)
    tracker.initialize(frame(), {"init_bbox": box})
    stub_head(tracker, monkeypatch, [0.6, 0.45, 0.3, 0.1])  # centre +10 px, -5 px; 30 x 10 px
    out = tracker.track(frame(), {})
    np.testing.assert_allclose(out["target_bbox"], [65.0, 40.0, 30.0, 10.0], atol=1e-4)
    assert out["score"] == pytest.approx(1 / (1 + math.exp(-5.0)))
    tracker.cfg.scale_update_rate = rate  # damped: same centre (80, 45), size 20 * (30/20, 10/20) ** rate
    tracker.initialize(frame(), {"init_bbox": box})
    out = tracker.track(frame(), {})
    size = 20.0 * np.array([1.5, 0.5]) ** rate
    np.testing.assert_allclose(out["target_bbox"], [80 - size[0] / 2, 45 - size[1] / 2, *size], atol=1e-4)


def test_box_is_clipped_with_a_margin_when_the_target_leaves(tracker, monkeypatch):
    tracker.initialize(frame(), {"init_bbox": [140.0, 50.0, 16.0, 16.0]})
    stub_head(tracker, monkeypatch, [0.95, 0.5, 0.2, 0.2])  # far beyond the right border
    for _ in range(5):
        out = tracker.track(frame(), {})
        assert_sane(out["target_bbox"], 160, 120)
        assert out["target_bbox"][0] <= 160 - 10 + 1e-6  # STARK: at least 10 px stay inside


def test_non_finite_prediction_keeps_the_previous_box(tracker, monkeypatch):
    box = [30.0, 30.0, 20.0, 10.0]
    tracker.initialize(frame(), {"init_bbox": box})
    stub_head(tracker, monkeypatch, [float("nan"), 0.5, 0.2, 0.2])
    out = tracker.track(frame(), {})
    assert out["target_bbox"] == box and out["score"] == 0.0


@pytest.mark.parametrize("size,box", [
    ((160, 120), [80.0, 60.0, 2.0, 2.0]),  # 2 px target
    ((160, 120), [0.0, 0.0, 160.0, 120.0]),  # whole frame
    ((53, 37), [10.5, 7.25, 13.0, 9.0]),  # odd image size
    ((9, 7), [2.0, 2.0, 3.0, 2.0]),  # tiny image: the margin shrinks
    ((160, 120), [150.0, 110.0, 30.0, 30.0]),  # target partly outside already
])
def test_real_network_never_returns_nan_or_empty_boxes(tracker, size, box):
    width, height = size
    tracker.initialize(frame(width, height), {"init_bbox": box})
    for i in range(4):
        out = tracker.track(frame(width, height, seed=i + 1), {})
        assert_sane(out["target_bbox"], width, height)
        assert 0.0 <= out["score"] <= 1.0


def test_grayscale_frames(tracker):
    gray = frame()[:, :, 0]
    tracker.initialize(gray, {"init_bbox": [40.0, 30.0, 20.0, 16.0]})
    assert_sane(tracker.track(gray[:, :, None], {})["target_bbox"], 160, 120)


def test_bad_init_box_is_refused(tracker):
    with pytest.raises(ValueError, match="init_bbox"):
        tracker.initialize(frame(), {"init_bbox": [1.0, float("nan"), 3.0, 4.0]})


def count_template_crops(tracker: BitTracker, monkeypatch) -> list[int]:
    """Record the crop size of every backbone call."""
    calls: list[int] = []
    original = tracker.net.forward_backbone

    def spy(images, masks):
        calls.append(images.shape[-1])
        return original(images, masks)
    monkeypatch.setattr(tracker.net, "forward_backbone", spy)
    return calls


@pytest.mark.parametrize("dataset,logit,expected", [
    ("vot2020", 5.0, 3),  # interval 10: frames 10, 20, 30
    ("lasot", 5.0, 0),  # interval 200
    ("vot2020", -5.0, 0),  # below the threshold
])
def test_dynamic_template_update(tracker, monkeypatch, dataset, logit, expected):
    tracker.initialize(frame(), {"init_bbox": [60.0, 40.0, 20.0, 20.0],
                                 "sequence": SequenceInfo(dataset=dataset, name="s", num_frames=31)})
    calls = count_template_crops(tracker, monkeypatch)
    stub_head(tracker, monkeypatch, [0.5, 0.5, 0.2, 0.2], logit)
    for _ in range(30):
        tracker.track(frame(), {})
    assert calls.count(tracker.template_size) == expected  # template features once per update
    assert tracker.templates.updates == expected
    assert len(tracker.templates.features) == 2


def test_template_slots_keep_the_initial_template():
    slots = TemplateSlots({"feat": torch.zeros(1)}, [10, 25], threshold=0.5)
    assert slots.due(50, 0.9) == [1, 2] and slots.due(20, 0.9) == [1] and slots.due(20, 0.5) == []
    slots.replace([1], {"feat": torch.ones(1)})
    assert slots.features[0]["feat"].item() == 0 and slots.features[1]["feat"].item() == 1
    with pytest.raises(IndexError):
        slots.replace([0], {"feat": torch.ones(1)})


def test_network_from_checkpoint(params, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTRACKING_INFERENCE", "plain")  # the loaded weights as stored, not folded
    torch.manual_seed(1)
    net = NETWORKS.build("bit", **bit_kwargs(params.model))
    path = save_checkpoint(tmp_path / "bit.pth", net, "bit", bit_kwargs(params.model))
    loaded = BitTracker(params, checkpoint=path)
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.net.state_dict()[key], value)
    assert not loaded.net.training


def test_scale_change_limit_clamps_width_and_height_about_the_centre():
    from pytracking.tracker.bit.tracker import damp_scale_change

    previous = np.array([10.0, 10.0, 20.0, 40.0])
    grown = np.array([0.0, 0.0, 100.0, 44.0])  # 5x wider, 1.1x taller, centre (50, 22)
    out = damp_scale_change(grown, previous, 1.25)
    np.testing.assert_allclose(out, [50 - 12.5, 22 - 22, 25.0, 44.0])
    np.testing.assert_array_equal(damp_scale_change(grown, previous, None), grown)
    shrunk = damp_scale_change(np.array([0.0, 0.0, 2.0, 4.0]), previous, 2.0)
    np.testing.assert_allclose(shrunk[2:], [10.0, 20.0])


def test_scale_update_rate_moves_the_size_part_of_the_way_in_log_space():
    """rate 0.5 gives the geometric mean of the previous and the predicted size (4x wider -> 2x),
    about the predicted centre; rate 0 keeps the previous size; the clamp applies afterwards."""
    from pytracking.tracker.bit.tracker import damp_scale_change

    previous = np.array([10.0, 10.0, 20.0, 40.0])
    predicted = np.array([0.0, 0.0, 80.0, 10.0])  # 4x wider, 4x shorter, centre (40, 5)
    np.testing.assert_allclose(damp_scale_change(predicted, previous, None, 0.5), [40 - 20, 5 - 10, 40.0, 20.0])
    np.testing.assert_allclose(damp_scale_change(predicted, previous, None, 0.0), [40 - 10, 5 - 20, 20.0, 40.0])
    np.testing.assert_allclose(damp_scale_change(predicted, previous, 1.5, 0.5)[2:], [30.0, 40 / 1.5])
    rate = 0.15
    np.testing.assert_allclose(damp_scale_change(predicted, previous, None, rate)[2:],
                               [20 * 4 ** rate, 40 * 0.25 ** rate])


def test_motion_window_with_a_wide_prior_is_the_box_heads_soft_argmax():
    """sigma -> infinity leaves the logits unchanged: the corners equal the head's own soft-argmax."""
    from ltr.models.layers.heads import CornerPredictor
    from pytracking.tracker.bit.tracker import windowed_corner_box

    head = CornerPredictor(inplanes=8, channel=16, feat_sz=16, stride=8)
    gen = torch.Generator().manual_seed(3)
    tl, br = torch.randn(1, 1, 16, 16, generator=gen) * 3, torch.randn(1, 1, 16, 16, generator=gen) * 3
    (x0, y0), (x1, y1) = head.soft_argmax(tl), head.soft_argmax(br)
    box = windowed_corner_box(tl, br, np.array([30.0, 40.0, 70.0, 90.0]), 1e9, 128)
    np.testing.assert_allclose(box, [float(x0), float(y0), float(x1 - x0), float(y1 - y0)], atol=1e-4)


def test_motion_window_prefers_the_peak_near_the_previous_corners():
    """Two equal peaks per corner map: the plain soft-argmax lands between them, the window on the
    one next to the previous box; the expected value matches a direct computation."""
    from pytracking.tracker.bit.tracker import windowed_corner_box

    tl, br = torch.full((1, 1, 16, 16), -20.0), torch.full((1, 1, 16, 16), -20.0)
    tl[0, 0, 2, 2] = tl[0, 0, 10, 12] = 0.0  # (row, col): near corner at x 16, y 16; far one at x 96, y 80
    br[0, 0, 5, 5] = br[0, 0, 13, 14] = 0.0
    previous = np.array([18.0, 14.0, 42.0, 38.0])  # corners next to the first peaks, 24 px box
    sigma = 0.5
    box = windowed_corner_box(tl, br, previous, sigma, 128)
    # direct: two-point mixture weighted by the Gaussian prior (other cells have weight ~e^-20)
    def expected(near, far, centre):
        w = [math.exp(-0.5 * sum(((p - c) / (sigma * 24.0)) ** 2 for p, c in zip(pt, centre))) for pt in (near, far)]
        return [(w[0] * a + w[1] * b) / (w[0] + w[1]) for a, b in zip(near, far)]
    x0, y0 = expected((16.0, 16.0), (96.0, 80.0), previous[:2])
    x1, y1 = expected((40.0, 40.0), (112.0, 104.0), previous[2:])
    np.testing.assert_allclose(box, [x0, y0, x1 - x0, y1 - y0], atol=1e-3)
    assert abs(box[0] - 16.0) < 0.1 and abs(box[2] - 24.0) < 0.1
    plain = windowed_corner_box(tl, br, previous, 1e9, 128)
    assert abs(plain[0] - 56.0) < 0.1  # halfway between the two top-left peaks


def test_motion_window_needs_corner_maps(tracker, monkeypatch):
    """A network without corner maps (an old ONNX export) gets a clear error, not a KeyError."""
    tracker.initialize(frame(), {"init_bbox": [60.0, 40.0, 20.0, 20.0]})
    monkeypatch.setattr(tracker.net, "forward_head", lambda *a, **k: {
        "pred_boxes": torch.tensor([[0.5, 0.5, 0.2, 0.2]]), "score_logits": torch.tensor([[0.0]])})
    monkeypatch.setattr(tracker.cfg, "motion_window", 0.5)
    with pytest.raises(ValueError, match="motion_window needs the corner maps"):
        tracker.track(frame(seed=1), {})


def test_motion_window_tracks_with_a_random_network():
    """The windowed path on the tiny net: finite boxes inside the frame over a few frames."""
    torch.manual_seed(0)
    windowed = BitTracker(BitTracker.load_params("bit", "tiny", RANDOM + ["tracking.motion_window=0.5"]))
    windowed.initialize(frame(), {"init_bbox": [60.0, 40.0, 20.0, 20.0]})
    for seed in range(1, 4):
        assert_sane(windowed.track(frame(seed=seed), {})["target_bbox"], 160, 120)


def test_bare_sequence_name_is_refused(tracker):
    """A string in info['sequence'] (the old runner's format) silently meant 'default intervals'."""
    with pytest.raises(TypeError, match="SequenceInfo"):
        tracker.initialize(frame(), {"init_bbox": [60.0, 40.0, 20.0, 20.0], "sequence": "basketball"})


@pytest.mark.parametrize("dataset,expected", [("vot2020", 3), ("trackingnet", 1), ("otb", 0)])
def test_interval_applied_through_the_runner(tmp_path, monkeypatch, dataset, expected):
    """The runner's per-sequence call hands the benchmark to BIT: VOT2020 every 10 frames,
    TrackingNet every 25, others (default 200) never within 31 frames."""
    import cv2

    from pytracking.evaluation.sequence import Sequence
    from pytracking.evaluation.tracker import Tracker, TrackerSpec

    paths = []
    for i in range(31):
        path = tmp_path / f"{i:04d}.png"
        cv2.imwrite(str(path), frame(seed=i))
        paths.append(str(path))
    seq = Sequence(name="s", dataset=dataset, frames=paths, ground_truth=np.tile([60.0, 40.0, 20.0, 20.0], (31, 1)))
    runner = Tracker(TrackerSpec("bit", "tiny", overrides=tuple(RANDOM)))
    impl = runner._tracker()
    stub_head(impl, monkeypatch, [0.5, 0.5, 0.2, 0.2], 5.0)
    seen = []
    original = impl.initialize
    monkeypatch.setattr(impl, "initialize", lambda image, info: (seen.append(info["sequence"]), original(image, info))[1])
    runner.run_sequence(seq)
    assert seen == [SequenceInfo(dataset=dataset, name="s", num_frames=31)]
    assert impl.templates.updates == expected


def test_crops_are_training_crops(tracker):
    """BIT's crop = STARK's sample_target: a whole-pixel window round(c − side/2), zero-padded,
    resized bilinearly (computed here independently with numpy + cv2.resize)."""
    import cv2

    image = frame(97, 83, seed=3)
    box = np.array([30.3, 20.7, 17.4, 11.9])  # centre (39.0, 26.65): the origin needs rounding
    side = math.ceil(math.sqrt(box[2] * box[3]) * 5.0)
    x0 = round(box[0] + box[2] / 2 - side / 2)
    y0 = round(box[1] + box[3] / 2 - side / 2)
    padded = np.zeros((image.shape[0] + 2 * side, image.shape[1] + 2 * side, 3), np.uint8)
    padded[side:side + image.shape[0], side:side + image.shape[1]] = image
    window = padded[y0 + side:y0 + 2 * side, x0 + side:x0 + 2 * side]
    expected = cv2.resize(window, (64, 64), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    with torch.inference_mode():  # the crop buffers were made under the tracker's inference mode
        crop = tracker.crops(image, box, 5.0, 64)
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    got = crop.image[0].permute(1, 2, 0).cpu().numpy() * std + mean
    assert np.abs(got - expected).max() < 1e-5
    assert (crop.transform.x0, crop.transform.y0) == (x0, y0)
    pad = np.ones((side, side), bool)
    ys, xs = np.arange(y0, y0 + side), np.arange(x0, x0 + side)
    pad[np.ix_((ys >= 0) & (ys < image.shape[0]), (xs >= 0) & (xs < image.shape[1]))] = False
    expected_pad = cv2.resize(pad.astype(np.uint8), (64, 64), interpolation=cv2.INTER_NEAREST_EXACT) > 0
    assert (crop.mask[0].cpu().numpy() == expected_pad).mean() > 0.97  # up to the boundary row/column


def test_amp_runs_the_network_in_bf16_on_cpu_and_is_refused_without_native_bf16(monkeypatch):
    """tracking.amp: both network calls run under bf16 autocast on a CPU (here forced to count as
    native), boxes stay close to fp32 ones; a CPU without native bf16 is refused at load."""
    from ltr.models import precision

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda flags=None: True)
    torch.manual_seed(0)
    fp32 = BitTracker(BitTracker.load_params("bit", "tiny", RANDOM + ["tracking.device=cpu"]))
    torch.manual_seed(0)
    amp = BitTracker(BitTracker.load_params("bit", "tiny", RANDOM + ["tracking.device=cpu", "tracking.amp=true"]))
    seen = []
    head = amp.net.forward_head
    monkeypatch.setattr(amp.net, "forward_head", lambda *a, **k: (
        seen.append(torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None), head(*a, **k))[1])
    box = [60.0, 40.0, 20.0, 20.0]
    fp32.initialize(frame(), {"init_bbox": box})
    amp.initialize(frame(), {"init_bbox": box})
    a, b = fp32.track(frame(seed=1), {}), amp.track(frame(seed=1), {})
    assert seen == [torch.bfloat16]
    assert_sane(b["target_bbox"], 160, 120)
    np.testing.assert_allclose(b["target_bbox"], a["target_bbox"], atol=2.0)  # bf16: ~3 significant digits
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda flags=None: False)
    with pytest.raises(ValueError, match="tracking.amp.*no native bf16"):
        BitTracker(BitTracker.load_params("bit", "tiny", RANDOM + ["tracking.device=cpu", "tracking.amp=true"]))
