"""GOT-10k protocol against hand computations (metrics.md §2.2): pooling, exclusions, bounding, speed."""
import math

import numpy as np
import pytest

from pytracking.analysis.protocols import got10k
from pytracking.analysis.protocols.base import InvalidResultsError
from pytracking.evaluation.sequence import Sequence


def make_seq(name, gt, cover=None, size=(100, 100)):
    gt = np.asarray(gt, dtype=float)
    extra = {"cover": np.asarray(cover)} if cover is not None else {}
    return Sequence(name, "got10k", [""] * len(gt), gt, image_size=size, extra=extra)


def hand_iou(a, b, width, height):
    """The toolkit's rule written out for one pair: clip x then w to the image, then IoU/(union+eps)."""
    boxes = []
    for x, y, w, h in (a, b):
        x = min(max(x, 0), width)
        y = min(max(y, 0), height)
        w = min(max(w, 0), width - x)
        h = min(max(h, 0), height - y)
        boxes.append((x, y, w, h))
    (ax, ay, aw, ah), (bx, by, bw, bh) = boxes
    iw = max(min(ax + aw, bx + bw) - max(ax, bx), 0)
    ih = max(min(ay + ah, by + bh) - max(ay, by), 0)
    union = aw * ah + bw * bh - iw * ih
    return min(max(iw * ih / (union + 2.220446049250313e-16), 0.0), 1.0)


def test_perfect_tracker_scores_ao_one():
    gt = [[10, 10, 20, 20], [12, 11, 20, 22], [15, 12, 21, 20]]
    result = got10k.evaluate([make_seq("a", gt)], {"a": np.array(gt, float)})
    assert result.scores["AO"] == pytest.approx(1.0)
    assert result.scores["SR0.50"] == 1.0 and result.scores["SR0.75"] == 1.0
    assert result.protocol == "got10k" and "pooled" in result.description


def test_frames_are_pooled_over_sequences_not_averaged_per_sequence():
    gt = [0, 0, 10, 10]
    half = [0, 0, 10, 5]  # IoU 0.5
    short = make_seq("short", [gt] * 3)          # frames 2..3 scored: 0.5, 0.5
    long = make_seq("long", [gt] * 5)            # frames 2..5 scored: 1, 1, 1, 1
    preds = {"short": np.array([gt, half, half], float), "long": np.array([gt] * 5, float)}
    result = got10k.evaluate([short, long], preds)
    pooled = (0.5 + 0.5 + 1 + 1 + 1 + 1) / 6
    mean_of_means = (0.5 + 1.0) / 2
    assert result.scores["AO"] == pytest.approx(pooled, abs=1e-12)
    assert result.scores["AO"] != pytest.approx(mean_of_means)
    assert result.per_sequence["short"]["AO"] == pytest.approx(0.5)
    assert result.scores["SR0.50"] == pytest.approx(4 / 6)  # IoU 0.5 is not > 0.5


def test_first_frame_and_cover_zero_are_excluded():
    gt = [[0, 0, 10, 10]] * 4
    pred = np.array([[50, 50, 5, 5], [0, 0, 10, 10], [60, 60, 5, 5], [0, 0, 10, 5]], float)
    # frame 1 (wrong) is never scored; frame 3 (wrong) has cover 0
    result = got10k.evaluate([make_seq("s", gt, cover=[8, 8, 0, 4])], {"s": pred})
    expected = (hand_iou(pred[1], gt[1], 100, 100) + hand_iou(pred[3], gt[3], 100, 100)) / 2
    assert result.scores["AO"] == pytest.approx(expected)
    assert result.scores["AO"] == pytest.approx(0.75, abs=1e-12)


def test_boxes_are_bounded_to_the_image_with_the_toolkit_clip():
    # GT starts left of the image: x -> 0 but w stays 20 (clip(w, 0, W - x)), so the GT becomes (0,0,20,10)
    gt = [[0, 0, 20, 10], [-10, 0, 20, 10], [90, 50, 30, 10]]
    pred = np.array([[0, 0, 20, 10], [0, 0, 20, 10], [90, 50, 10, 10]], float)
    result = got10k.evaluate([make_seq("s", gt)], {"s": pred})
    assert hand_iou(pred[1], gt[1], 100, 100) == pytest.approx(1.0)
    assert hand_iou(pred[2], gt[2], 100, 100) == pytest.approx(1.0)  # both clipped to w = 10
    assert result.scores["AO"] == pytest.approx(1.0)
    unbounded = got10k.rect_iou(pred[1:2], np.array(gt[1:2], float))
    assert unbounded[0] == pytest.approx(1 / 3)


def test_success_curve_has_101_strict_thresholds():
    gt = [[0, 0, 10, 10]] * 3
    pred = np.array([[0, 0, 10, 10], [30, 30, 5, 5], [0, 0, 10, 10]], float)  # IoU 0 and 1
    result = got10k.evaluate([make_seq("s", gt)], {"s": pred})
    curve = result.curves["success"]
    assert len(curve.thresholds) == 101
    assert curve.values[0] == pytest.approx(0.5)  # IoU 0 is not > 0
    assert curve.values[100] == 0.0                # IoU 1 is not > 1


def test_repetitions_are_pooled_too():
    gt = [[0, 0, 10, 10]] * 3
    runs = [np.array([gt[0], gt[0], gt[0]], float), np.array([gt[0], [0, 0, 10, 5], [0, 0, 10, 5]], float)]
    result = got10k.evaluate([make_seq("s", gt)], {"s": runs})
    assert result.scores["AO"] == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)


def test_speed_is_mean_of_inverse_times_pooled_dropping_nan_and_nonpositive():
    gt = [[0, 0, 10, 10]] * 2
    seqs = [make_seq("a", gt), make_seq("b", gt)]
    preds = {"a": np.array(gt, float), "b": np.array(gt, float)}
    times = {"a": np.array([0.1, 0.2]), "b": [np.array([0.5, np.nan]), np.array([0.0, -1.0])]}
    result = got10k.evaluate(seqs, preds, times=times)
    assert result.scores["FPS"] == pytest.approx((10 + 5 + 2) / 3)
    assert result.per_sequence["a"]["FPS"] == pytest.approx(7.5)


def test_nan_boxes_make_ao_nan_and_are_reported():
    gt = [[0, 0, 10, 10]] * 3
    pred = np.array([gt[0], [np.nan] * 4, gt[0]], float)
    result = got10k.evaluate([make_seq("s", gt)], {"s": pred})
    assert math.isnan(result.scores["AO"])
    assert any("1 NaN boxes" in line for line in result.repairs.lines())


def test_wrong_length_is_refused_naming_the_sequence():
    gt = [[0, 0, 10, 10]] * 3
    with pytest.raises(InvalidResultsError, match="seqX"):
        got10k.evaluate([make_seq("seqX", gt)], {"seqX": np.array(gt[:2], float)})
