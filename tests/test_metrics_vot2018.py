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
    half = [10.0, 10.0, 20.0, 10.0]  # pixel overlap 0.5
    traj = [INIT] + [GT_BOX] * 9 + [half, half, FAILURE, UNKNOWN]
    seq_a = make_seq("a", n)
    seq_b = make_seq("b", 12)
    traj_b = [INIT] + [GT_BOX] * 9 + [GT_BOX, GT_BOX]
    result = vot2018.evaluate([seq_a, seq_b], {"a": [traj], "b": [traj_b, traj_b]})
    # frames 0..9 are burn-in; a scores 0.5, 0.5 (frames 10, 11), b scores 1, 1 (frames 10, 11)
    assert result.per_sequence["a"]["Accuracy"] == pytest.approx(0.5)
    assert result.scores["Accuracy"] == pytest.approx((0.5 + 0.5 + 1 + 1) / 4)
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
