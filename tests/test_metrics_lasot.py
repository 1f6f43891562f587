"""LaSOT MATLAB-toolkit protocol against hand computations (metrics.md §4)."""
import numpy as np
import pytest

from pytracking.analysis.protocols import lasot
from pytracking.analysis.protocols.base import InvalidResultsError
from pytracking.evaluation.sequence import Sequence


def make_seq(name, gt, visible=None):
    gt = np.asarray(gt, dtype=float)
    return Sequence(name, "lasot", [""] * len(gt), gt, target_visible=visible)


def hand_success(pred, gt, absent):
    """calc_seq_err_robust.m + eval_tracker.m for one sequence, frame by frame."""
    pred = [list(p) for p in pred[: len(gt)]]
    for i in range(1, len(pred)):
        r = pred[i]
        # (sum(isnan(r)) | r(3)<=0 | r(4)<=0) & ~isnan(r_anno), then MATLAB's if needs all 4 true
        left = bool(np.isnan(r).sum()) or r[2] <= 0 or r[3] <= 0
        if all(left and not np.isnan(v) for v in gt[i]):
            pred[i] = list(pred[i - 1])
    pred[0] = list(gt[0])
    overlaps = []
    for i, (p, g) in enumerate(zip(pred, gt)):
        if absent[i]:
            continue
        if not all(v > 0 for v in g):
            overlaps.append(-1.0)
            continue
        iw = max(0, min(p[0] + p[2] - 1, g[0] + g[2] - 1) - max(p[0], g[0]) + 1)
        ih = max(0, min(p[1] + p[3] - 1, g[1] + g[3] - 1) - max(p[1], g[1]) + 1)
        overlaps.append(iw * ih / (p[2] * p[3] + g[2] * g[3] - iw * ih))
    return [sum(o > t for o in overlaps) / len(gt) for t in np.linspace(0, 1, 21)]


def test_absent_frames_stay_in_the_denominator():
    gt = [[10, 10, 20, 20]] * 4
    result = lasot.evaluate([make_seq("s", gt, visible=[True, True, False, True])], {"s": np.array(gt, float)})
    assert result.scores["AUC"] == pytest.approx(100 * 0.75 * 20 / 21)
    assert result.scores["Precision"] == pytest.approx(75.0)
    assert result.protocol == "lasot" and "MATLAB" in result.description


def test_sequences_with_an_all_zero_curve_are_dropped_before_averaging():
    gt = [[10, 10, 20, 20]] * 3
    good = make_seq("good", gt)
    lost = make_seq("lost", gt, visible=[False, True, True])  # frame 1 (set to GT) absent, the rest far off
    far = np.array([gt[0], [300, 300, 20, 20], [300, 300, 20, 20]], float)
    result = lasot.evaluate([good, lost], {"good": np.array(gt, float), "lost": far})
    assert result.per_sequence["lost"]["AUC"] == 0.0
    assert result.scores["AUC"] == pytest.approx(100 * 20 / 21)  # only "good" is averaged
    assert result.extra["dropped"]["success"] == ["lost"]
    assert "1 all-zero success curves dropped from the average in 1 sequence" in result.repairs.lines()


def test_a_sequence_with_some_success_is_kept_even_if_poor():
    gt = [[10, 10, 20, 20]] * 4
    far = np.array([gt[0]] + [[300, 300, 20, 20]] * 3, float)
    result = lasot.evaluate([make_seq("a", gt), make_seq("b", gt)], {"a": np.array(gt, float), "b": far})
    assert result.scores["AUC"] == pytest.approx(100 * (20 / 21 + 0.25 * 20 / 21) / 2)


def test_rows_with_any_nan_or_nonpositive_size_are_replaced_by_the_previous():
    gt = np.array([[10, 10, 20, 20]] * 6, float)
    pred = np.array([[10, 10, 20, 20], [11, 10, 20, 20], [np.nan] * 4, [5, 5, 0, 8], [np.nan, 10, 20, 20],
                     [10, 10, 20, 20]])
    result = lasot.evaluate([make_seq("s", gt)], {"s": pred})
    hand = hand_success(pred, gt, [False] * 6)
    assert result.curves["success"].values == pytest.approx(np.array(hand))
    # frames 2, 3, 4 (the partly-NaN row too) all copy frame 1's (11, 10, 20, 20): no frame fails
    assert hand[0] == pytest.approx(6 / 6)
    assert result.repairs.lines() == ["3 NaN or non-positive-size boxes replaced by the previous box in 1 sequence"]


def test_bad_rows_are_kept_where_the_ground_truth_row_has_a_nan():
    gt = np.array([[10, 10, 20, 20], [10, 10, 20, 20], [np.nan, 10, 20, 20], [10, 10, 20, 20]], float)
    pred = np.array([[10, 10, 20, 20], [10, 10, 20, 20], [10, 10, -5, 20], [np.nan, 10, 20, 20]])
    result = lasot.evaluate([make_seq("s", gt)], {"s": pred})
    # frame 2: w <= 0 but the GT row has a NaN, so it stays (and the NaN GT fails it: overlap -1);
    # frame 3: any-NaN row, GT fine -> copies frame 2's kept (10, 10, -5, 20): IoU with w = -5 is 0
    hand = hand_success(pred, gt, [False] * 4)
    assert result.curves["success"].values == pytest.approx(np.array(hand))
    assert hand[0] == pytest.approx(2 / 4)
    assert "1 NaN or non-positive-size boxes kept as failures (NaN ground truth) in 1 sequence" in result.repairs.lines()


def test_gt_with_nonpositive_values_fails_success_but_passes_precision():
    gt = [[10, 10, 20, 20], [0, 10, 20, 20]]
    pred = np.array([[10, 10, 20, 20], [200, 200, 20, 20]], float)
    result = lasot.evaluate([make_seq("s", gt)], {"s": pred})
    assert result.curves["success"].values[0] == pytest.approx(0.5)
    assert result.scores["Precision"] == pytest.approx(100.0)


def test_random_sequences_match_the_hand_computation():
    rng = np.random.default_rng(7)
    seqs, preds, curves = [], {}, []
    for k in range(3):
        n = 25
        gt = np.round(np.c_[rng.uniform(1, 80, (n, 2)), rng.uniform(5, 40, (n, 2))])
        visible = rng.random(n) > 0.2
        pred = gt + np.round(rng.normal(0, 6, (n, 4)))
        seqs.append(make_seq(f"s{k}", gt, visible))
        preds[f"s{k}"] = pred
        curves.append(hand_success(pred, gt, ~visible))
    result = lasot.evaluate(seqs, preds)
    kept = [c for c in curves if sum(c) > 0]
    assert result.scores["AUC"] == pytest.approx(100 * np.mean(np.mean(kept, axis=0)))


def test_results_are_cut_to_the_gt_length_and_short_results_refused():
    gt = [[10, 10, 20, 20]] * 3
    long = lasot.evaluate([make_seq("monkey-17", gt)], {"monkey-17": np.array(gt * 2, float)})
    assert long.scores["AUC"] == pytest.approx(100 * 20 / 21)
    assert "3 extra result rows cut in 1 sequence" in long.repairs.lines()
    with pytest.raises(InvalidResultsError, match="monkey-17"):
        lasot.evaluate([make_seq("monkey-17", gt)], {"monkey-17": np.array(gt[:2], float)})


def test_matlab_colon_thresholds():
    thresholds = lasot.matlab_colon(0, 0.05, 1)
    assert len(thresholds) == 21 and thresholds[-1] == 1.0 and thresholds[10] == 0.5
    assert thresholds == pytest.approx([0.05 * k for k in range(21)])
    assert lasot.matlab_colon(0, 1, 50).tolist() == list(range(51))
