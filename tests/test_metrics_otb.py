"""OTB / UAV / NfS in the pytracking convention against a frame-by-frame hand computation (metrics.md §3)."""
import numpy as np
import pytest

from pytracking.analysis.protocols import evaluate as evaluate_protocol
from pytracking.analysis.protocols import otb
from pytracking.analysis.protocols.base import InvalidResultsError
from pytracking.evaluation.sequence import Sequence


def make_seq(name, gt, dataset="otb"):
    gt = np.asarray(gt, dtype=float)
    return Sequence(name, dataset, [""] * len(gt), gt)


def hand_curves(pred, gt, dataset, exclude_invalid=False):
    """pytracking's calc_seq_err_robust + extract_results, one frame at a time."""
    pred = [list(map(float, p)) for p in pred]
    gt = [list(map(float, g)) for g in gt]
    for i in range(1, len(pred)):
        if (pred[i][2] == 0 or pred[i][3] == 0) and not any(np.isnan(gt[i])):
            pred[i] = list(pred[i - 1])
    pred = pred[: len(gt)] + [[0.0] * 4] * (len(gt) - len(pred))
    pred[0] = list(gt[0])
    overlaps, centers, norms, n_valid = [], [], [], 0
    for p, g in zip(pred, gt):
        valid = all(v > 0 for v in g)
        n_valid += valid
        if not valid:
            overlaps.append(-1.0)
            centers.append(-1.0 if dataset == "uav" else float("inf"))
            norms.append(-1.0)
            continue
        iw = max(min(p[0] + p[2] - 1, g[0] + g[2] - 1) - max(p[0], g[0]) + 1, 0)
        ih = max(min(p[1] + p[3] - 1, g[1] + g[3] - 1) - max(p[1], g[1]) + 1, 0)
        overlaps.append(iw * ih / (p[2] * p[3] + g[2] * g[3] - iw * ih))
        pcx, pcy = p[0] + 0.5 * (p[2] - 1), p[1] + 0.5 * (p[3] - 1)
        gcx, gcy = g[0] + 0.5 * (g[2] - 1), g[1] + 0.5 * (g[3] - 1)
        centers.append(((pcx - gcx) ** 2 + (pcy - gcy) ** 2) ** 0.5)
        norms.append(((pcx / g[2] - gcx / g[2]) ** 2 + (pcy / g[3] - gcy / g[3]) ** 2) ** 0.5)
    length = n_valid if exclude_invalid else len(gt)
    success = [sum(o > t for o in overlaps) / length for t in np.arange(0, 1.05, 0.05)]
    precision = [sum(c <= t for c in centers) / length for t in range(51)]
    norm_precision = [sum(c <= t / 100 for c in norms) / length for t in range(51)]
    return success, precision, norm_precision


def test_perfect_tracker_scores_95_2_auc():
    gt = [[10, 12, 30, 40], [11, 13, 30, 41], [12, 15, 31, 40]]
    result = otb.evaluate([make_seq("s", gt)], {"s": np.array(gt, float)})
    assert result.scores["AUC"] == pytest.approx(100 * 20 / 21)
    assert result.scores["Precision"] == 100 and result.scores["NormPrecision"] == 100
    assert result.protocol == "otb" and "pytracking" in result.description


def test_scores_match_a_frame_by_frame_hand_computation():
    rng = np.random.default_rng(3)
    seqs, preds, hand = [], {}, []
    for k, n in enumerate((17, 30)):
        gt = np.round(np.c_[rng.uniform(1, 80, (n, 2)), rng.uniform(5, 40, (n, 2))])
        gt[4] = [0, 5, 10, 10]  # x = 0: invalid in pytracking
        pred = gt + np.round(rng.normal(0, 8, (n, 4)))
        pred[:, 2:] = np.maximum(np.abs(pred[:, 2:]), 1)
        pred[6, 2] = 0  # carried over from frame 6
        seqs.append(make_seq(f"s{k}", gt))
        preds[f"s{k}"] = pred
        hand.append(hand_curves(pred, gt, "otb"))
    result = otb.evaluate(seqs, preds)
    success = np.mean([h[0] for h in hand], axis=0)
    precision = np.mean([h[1] for h in hand], axis=0)
    norm = np.mean([h[2] for h in hand], axis=0)
    assert result.scores["AUC"] == pytest.approx(100 * success.mean())
    assert result.scores["OP50"] == pytest.approx(100 * success[10])
    assert result.scores["OP75"] == pytest.approx(100 * success[15])
    assert result.scores["Precision"] == pytest.approx(100 * precision[20])
    assert result.scores["NormPrecision"] == pytest.approx(100 * norm[20])
    assert result.per_sequence["s1"]["AUC"] == pytest.approx(100 * np.mean(hand[1][0]))
    assert "2 zero-size boxes replaced by the previous box in 2 sequences" in result.repairs.lines()


def test_zero_size_box_takes_the_previous_prediction_not_the_gt():
    gt = [[10, 10, 20, 20]] * 3
    pred = np.array([[40, 40, 20, 20], [10, 10, 0, 20], [10, 10, 20, 20]], float)
    result = otb.evaluate([make_seq("s", gt)], {"s": pred})
    # frame 2 becomes the *raw* frame-1 prediction (40,40,...): IoU 0; frame 1 is set to GT afterwards
    assert result.curves["success"].values[0] == pytest.approx(2 / 3)


def test_uav_nan_rows_are_precision_successes_and_can_exceed_100_percent():
    gt = [[10, 10, 20, 20], [np.nan] * 4, [12, 10, 20, 20], [14, 10, 20, 20]]
    pred = np.array([[10, 10, 20, 20], [0, 0, 0, 0], [12, 10, 20, 20], [14, 10, 20, 20]], float)
    seqs = [make_seq("uav1", gt, "uav")]
    plain = otb.evaluate(seqs, {"uav1": pred}, dataset="uav")
    excluded = otb.evaluate(seqs, {"uav1": pred}, dataset="uav", exclude_invalid_frames=True)
    assert plain.scores["Precision"] == pytest.approx(100.0)          # 4/4: the NaN frame "succeeds"
    assert plain.scores["AUC"] == pytest.approx(100 * 3 / 4 * 20 / 21)  # but fails the success plot
    assert excluded.scores["Precision"] == pytest.approx(100 * 4 / 3)  # 133 %: numerator keeps the NaN frame
    assert excluded.scores["AUC"] == pytest.approx(100 * 20 / 21)
    hand = hand_curves(pred, gt, "uav", exclude_invalid=True)
    assert excluded.scores["Precision"] == pytest.approx(100 * hand[1][20])
    assert excluded.protocol == "uav+exclude_invalid"


def test_invalid_frames_fail_the_precision_outside_uav():
    gt = [[10, 10, 20, 20], [10, 10, 20, -5]]
    pred = np.array([[10, 10, 20, 20]] * 2, float)
    result = otb.evaluate([make_seq("s", gt, "nfs")], {"s": pred}, dataset="nfs")
    assert result.scores["Precision"] == pytest.approx(50.0)
    assert result.scores["NormPrecision"] == pytest.approx(100.0)  # normalised error -1 succeeds


@pytest.mark.parametrize("bad", [[np.nan, 1, 2, 3], [1, 1, -2, 3]])
def test_nan_or_negative_predictions_are_refused_naming_sequence_and_frame(bad):
    gt = [[10, 10, 20, 20]] * 3
    pred = np.array([gt[0], gt[0], bad], float)
    with pytest.raises(InvalidResultsError, match=r"Basketball: run 1, frame 3"):
        otb.evaluate([make_seq("Basketball", gt)], {"Basketball": pred})


def test_invalid_rows_past_the_ground_truth_length_refuse_before_the_cut():
    # pytracking checks the whole file first, then cuts it to the GT length
    gt = [[10, 10, 20, 20]] * 2
    pred = np.array(gt + [[np.nan, 1, 2, 3]], float)
    with pytest.raises(InvalidResultsError, match=r"s: run 1, frame 3"):
        otb.evaluate([make_seq("s", gt)], {"s": pred})


def test_nan_ground_truth_is_refused_outside_uav():
    gt = [[10, 10, 20, 20], [np.nan] * 4]
    with pytest.raises(InvalidResultsError, match="only on UAV123"):
        otb.evaluate([make_seq("s", gt)], {"s": np.array([[10, 10, 20, 20]] * 2, float)})


def test_length_is_fixed_by_cutting_or_padding_with_zero_boxes():
    gt = [[10, 10, 20, 20]] * 4
    short = otb.evaluate([make_seq("s", gt)], {"s": np.array(gt[:2], float)})
    long = otb.evaluate([make_seq("s", gt)], {"s": np.array(gt * 2, float)})
    assert short.scores["AUC"] == pytest.approx(100 * 0.5 * 20 / 21)
    assert long.scores["AUC"] == pytest.approx(100 * 20 / 21)
    assert "2 missing result rows padded with zero boxes (fail) in 1 sequence" in short.repairs.lines()
    assert "4 extra result rows cut in 1 sequence" in long.repairs.lines()


def test_runs_of_a_sequence_are_averaged_and_registry_reaches_the_protocol():
    gt = [[10, 10, 20, 20]] * 2
    runs = [np.array(gt, float), np.array([gt[0], [60, 60, 5, 5]], float)]
    result = evaluate_protocol("otb", [make_seq("s", gt)], {"s": runs})
    assert result.curves["success"].values[0] == pytest.approx((1.0 + 0.5) / 2)


def test_caller_arrays_are_not_modified():
    gt = [[10, 10, 20, 20]] * 2
    pred = np.array([[1, 1, 5, 5], [10, 10, 20, 20]], float)
    otb.evaluate([make_seq("s", gt)], {"s": pred})
    assert pred[0].tolist() == [1, 1, 5, 5]
