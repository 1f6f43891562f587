"""TrackingNet devkit protocol against hand computations (metrics.md §5)."""
import numpy as np
import pytest

from pytracking.analysis.protocols import trackingnet
from pytracking.analysis.protocols.base import InvalidResultsError
from pytracking.evaluation.sequence import Sequence


def make_seq(name, gt):
    gt = np.asarray(gt, dtype=float)
    return Sequence(name, "trackingnet", [""] * len(gt), gt)


def trapezoid(ys, xs):
    return sum((xs[i + 1] - xs[i]) * (ys[i + 1] + ys[i]) / 2 for i in range(len(xs) - 1))


def test_perfect_tracker_scores_100():
    gt = [[10.2, 12.7, 30.1, 40.4], [11, 13, 30, 41]]
    result = trackingnet.evaluate([make_seq("s", gt)], {"s": np.array(gt, float)})
    assert result.scores == {"Success": pytest.approx(100), "Precision": pytest.approx(100),
                             "NormPrecision": pytest.approx(100), "Coverage": 100.0}
    assert result.protocol == "trackingnet"


def test_coordinates_are_rounded_half_to_even_before_scoring():
    gt = [[10, 11, 20, 20], [10, 11, 20, 20]]
    pred = np.array([gt[0], [10.4, 10.6, 19.5, 20.5]], float)  # rounds to (10, 11, 20, 20)
    result = trackingnet.evaluate([make_seq("s", gt)], {"s": pred})
    assert result.scores["Success"] == pytest.approx(100)


def test_success_uses_greater_or_equal():
    gt = [[0, 0, 10, 10]] * 2
    pred = np.array([gt[0], [0, 0, 10, 5]], float)  # IoU exactly 0.5
    result = trackingnet.evaluate([make_seq("s", gt)], {"s": pred})
    curve = result.curves["success"].values
    assert curve[10] == pytest.approx(1.0)   # t = 0.5: 0.5 >= 0.5 counts
    assert curve[11] == pytest.approx(0.5)
    hand = [1.0 if t <= 0.5 else 0.5 for t in np.linspace(0, 1, 21)]
    hand[-1] = 0.5  # the perfect first frame passes t = 1
    assert result.scores["Success"] == pytest.approx(100 * trapezoid(hand, np.linspace(0, 1, 21)))


def test_precision_is_the_area_under_the_0_to_50_px_curve():
    gt = [[0, 0, 10, 10]] * 2
    pred = np.array([gt[0], [15, 0, 10, 10]], float)  # centre 15 px away
    result = trackingnet.evaluate([make_seq("s", gt)], {"s": pred})
    xs = np.linspace(0, 50, 21)
    hand = [(1 + (15 <= t)) / 2 for t in xs]
    assert result.scores["Precision"] == pytest.approx(100 * trapezoid(hand, xs) / 50)
    assert result.scores["Precision"] != pytest.approx(100 * hand[8])  # not P@20


def test_missing_file_counts_as_zero_boxes_and_lowers_coverage():
    gt = [[5, 5, 10, 10]] * 4
    result = trackingnet.evaluate([make_seq("a", gt), make_seq("b", gt)], {"a": np.array(gt, float)})
    # frame 1 is set to the GT; the zero boxes have IoU 0, which still passes t = 0 (0 >= 0)
    hand = [1.0] + [0.25] * 20
    assert result.per_sequence["b"]["Success"] == pytest.approx(100 * trapezoid(hand, np.linspace(0, 1, 21)))
    assert result.scores["Coverage"] == pytest.approx(100 * 5 / 8)
    assert "1 missing result files scored as zero boxes in 1 sequence" in result.repairs.lines()


def test_short_results_fail_on_the_missing_rows():
    gt = [[5, 5, 10, 10]] * 4
    result = trackingnet.evaluate([make_seq("a", gt)], {"a": np.array(gt[:2], float)})
    assert result.curves["success"].values[0] == pytest.approx(0.5)
    assert result.scores["Coverage"] == pytest.approx(50.0)


def test_test_split_without_full_ground_truth_is_refused():
    gt = np.array([[5, 5, 10, 10], [np.nan] * 4])
    with pytest.raises(InvalidResultsError, match="evaluation server"):
        trackingnet.evaluate([make_seq("t", gt)], {"t": np.array([[5, 5, 10, 10]] * 2, float)})
