"""VOT2018 supervised protocol: the reset driver, legacy accuracy/robustness and EAO fragments (metrics.md §6.3)."""
import numpy as np
import pytest

from pytracking.analysis.protocols import vot2018
from pytracking.analysis.protocols.vot_region import FAILURE, INIT, UNKNOWN
from pytracking.evaluation.sequence import Sequence

GT_BOX = [10.0, 10.0, 20.0, 20.0]
FAR = [70.0, 70.0, 10.0, 10.0]


def make_seq(name, n):
    return Sequence(name, "vot2018", [str(i) for i in range(n)], np.array([GT_BOX] * n), image_size=(100, 100))


class ScriptedTracker:
    """Returns the GT box except on the frames listed in ``lose`` (the image *is* the frame index)."""

    def __init__(self, lose):
        self.lose = set(lose)
        self.inits = []

    def initialize(self, image, info):
        self.inits.append(int(image))
        assert info["init_bbox"] == GT_BOX

    def track(self, image, info):
        return {"target_bbox": FAR if int(image) in self.lose else GT_BOX}


def test_failure_is_coded_and_the_tracker_restarts_five_frames_later():
    tracker = ScriptedTracker(lose={7, 27})
    run = vot2018.run_supervised(lambda: tracker, make_seq("s", 30), image_loader=int)
    traj = run.trajectory
    assert traj[0] == INIT and traj[7] == FAILURE and traj[27] == FAILURE
    assert all(traj[i] == UNKNOWN for i in (8, 9, 10, 11, 28, 29))
    assert traj[12] == INIT
    assert all(np.allclose(traj[i], GT_BOX) for i in list(range(1, 7)) + list(range(13, 27)))
    assert tracker.inits == [0, 12]  # no restart: 27 + 5 is past the end
    assert np.isnan(run.times[8:12]).all() and not np.isnan(run.times[:8]).any()


def test_accuracy_skips_burn_in_and_special_frames_and_pools_frames():
    n = 14
    gt = [GT_BOX] * n
    half = [10.0, 10.0, 20.0, 10.0]  # legacy raster: rows 10..20 of the GT's 10..30, 11/21 (float32)
    h = float(np.float32(11) / np.float32(21))
    traj = [INIT] + [GT_BOX] * 9 + [half, half, FAILURE, UNKNOWN]
    seq_a = make_seq("a", n)
    seq_b = make_seq("b", 12)
    traj_b = [INIT] + [GT_BOX] * 9 + [GT_BOX, GT_BOX]
    result = vot2018.evaluate([seq_a, seq_b], {"a": [traj], "b": [traj_b, traj_b]})
    # frames 0..9 are burn-in; a scores h, h (frames 10, 11), b scores 1, 1 (frames 10, 11)
    assert result.per_sequence["a"]["Accuracy"] == pytest.approx(h, abs=1e-15)
    assert result.scores["Accuracy"] == pytest.approx((h + h + 1 + 1) / 4, abs=1e-15)
    assert result.scores["Failures"] == 1
    assert result.scores["Robustness"] == pytest.approx(100 * 1 / (14 + 12))
    assert len(gt) == n and result.protocol == "vot2018"


def test_fragments_run_to_the_next_restart_inclusive_with_zero_and_nan_padding():
    nan = np.nan
    # failure at 2, restart at 2 + 5 = 7; special frames (NaN) become 0
    overlaps = np.array([nan, 0.8, nan, nan, nan, nan, nan, nan, 0.6, 0.4])
    frags, weights = vot2018.fragments([overlaps], [np.array([2])], [0.5])
    first = [0, 0.8, 0, 0, 0, 0, 0, 0, 0, 0]          # frames 0..7, then 0 padding
    last = [0, 0.6, 0.4] + [nan] * 7                  # frames 7..9, then NaN padding
    assert frags[0].tolist() == first
    assert np.array_equal(frags[1], np.array(last), equal_nan=True)
    assert weights.tolist() == [0.5, 0.5]


def test_expected_overlap_curve_and_eao_window_on_a_hand_built_fragment_set():
    nan = np.nan
    frags = np.array([[0, 1.0, 0.5, 0, 0, 0],        # failed: padded with 0
                      [0, 0.9, 0.7, 0.5, nan, nan],  # last fragment: length 4
                      [0, 0.6, nan, nan, nan, nan]])  # last fragment: length 2
    weights = np.array([1.0, 0.5, 0.5])
    curve = vot2018.expected_overlap_curve(frags, weights)
    hand = [1.0]
    for length in range(2, 7):
        num = den = 0.0
        for row, w in zip(frags, weights):
            if not np.isnan(row[length - 1]):
                num += w * sum(row[1:length]) / (length - 1)
                den += w
        hand.append(num / den)
    assert curve == pytest.approx(hand)
    assert vot2018.eao_score(curve, 3, 5) == pytest.approx(np.mean(hand[2:5]))


def test_eao_of_one_perfect_and_one_failing_run():
    n = 8
    perfect = [INIT] + [GT_BOX] * (n - 1)
    failing = [INIT, GT_BOX, FAILURE, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, INIT]
    result = vot2018.evaluate([make_seq("s", n)], {"s": [perfect, failing]}, low=2, high=8)
    # fragments: perfect [_,1,1,1,1,1,1,1] (NaN-padded, full length), failing [_,1,0,0,0,0,0,0] (frames 0..7)
    # and the failing run's last fragment [_] of length 1 (frame 7 only)
    hand = [1.0]
    for length in range(2, n + 1):
        frames = length - 1
        hand.append(((frames / frames) * 0.5 + (1 / frames) * 0.5) / 1.0)
    assert result.curves["eao"].values == pytest.approx(hand)
    assert result.scores["EAO"] == pytest.approx(np.mean(hand[1:8]))


def test_legacy_eao_window_longer_than_the_runs_warns_and_is_nan():
    n = 30
    runs = [[INIT] + [GT_BOX] * (n - 1)]
    result = vot2018.evaluate([make_seq("s", n)], {"s": runs})
    assert np.isnan(result.scores["EAO"])
    assert "starts after the longest run (30 frames)" in result.extra["warnings"][0]
    short = vot2018.evaluate([make_seq("s", n)], {"s": runs}, low=10, high=100)
    assert short.scores["EAO"] == 1.0 and "only lengths 10..30" in short.extra["warnings"][0]
    assert not vot2018.evaluate([make_seq("s", n)], {"s": runs}, low=10, high=30).extra["warnings"]


def test_vot_toolkit_supervised_analysis_by_hand():
    from pytracking.analysis.protocols import vot2018_toolkit
    # pixel overlap of the half box with the GT (rows 10..19 of 10..29): exactly 0.5 under vot-toolkit
    half = [10.0, 10.0, 20.0, 10.0]
    n = 14
    run1 = [INIT] + [GT_BOX] * 9 + [half, half, FAILURE, UNKNOWN]   # accuracy over frames 10, 11 only
    run2 = [INIT] + [GT_BOX] * 13                                   # accuracy over 10..13: 1.0
    seq_b = make_seq("b", 12)
    traj_b = [INIT] + [GT_BOX] * 11
    result = vot2018_toolkit.evaluate([make_seq("a", n), seq_b], {"a": [run1, run2], "b": [traj_b]},
                                      low=1, high=5)
    acc_a = (0.5 + 1.0) / 2                      # mean of per-run accuracies, not of frames
    assert result.per_sequence["a"] == {"Accuracy": acc_a, "Robustness": 0.5}
    assert result.scores["Accuracy"] == pytest.approx((acc_a * 14 + 1.0 * 12) / 26)
    assert result.scores["Robustness"] == pytest.approx(0.5 * 14 / 26)
    # segments: run1 [init, failure) = frames 0..11 (failed), run2 0..13 and b 0..11 (succeeded);
    # index 0 is the init frame's overlap, 0 for the special code
    o1 = [0.0] + [1.0] * 9 + [0.5, 0.5]
    curve = result.curves["eao"].values
    assert curve[0] == 0.0
    for j in range(1, 14):
        parts = [np.mean((o1 + [0.0] * 3)[1: j + 1]), 1.0]      # failed: zero-padded; run2 always
        if j < 12:
            parts.append(1.0)                                   # b only while inside it
        assert curve[j] == pytest.approx(np.mean(parts))
    assert result.scores["EAO"] == pytest.approx(np.mean(curve[1:6]))
    assert result.protocol == "vot2018_toolkit" and "vot-toolkit" in result.description
