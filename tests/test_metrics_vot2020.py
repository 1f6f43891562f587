"""VOT2020 multistart protocol: anchors, the grace streak, AR weighting and the j-1 EAO divisor (metrics.md §6.4)."""
import numpy as np
import pytest

from pytracking.analysis.protocols import vot2020
from pytracking.analysis.protocols.vot_region import INIT
from pytracking.evaluation.sequence import Sequence

GT_BOX = [10.0, 10.0, 20.0, 20.0]
FAR = [70.0, 70.0, 10.0, 10.0]


def make_seq(name, n, anchors):
    values = np.zeros(n)
    for frame, value in anchors.items():
        values[frame] = value
    return Sequence(name, "vot2020", [str(i) for i in range(n)], np.array([GT_BOX] * n), image_size=(100, 100),
                    extra={"anchors": values})


def test_failure_is_the_start_of_the_first_grace_streak():
    low, ok = 0.05, 0.9
    overlaps = np.array([ok] * 3 + [low] * 9 + [ok] + [low] * 10 + [ok] * 2)
    empty = np.zeros(len(overlaps), dtype=bool)
    assert vot2020.failure_progress(overlaps, empty) == 13  # the 9-frame streak is forgiven
    assert vot2020.failure_progress(overlaps[:13], empty[:13]) == 13  # no failure: the run length
    empty[17] = True  # an empty-GT frame breaks the streak
    assert vot2020.failure_progress(overlaps, empty) == 25
    assert vot2020.failure_progress(np.array([0.1] * 10), np.zeros(10, bool)) == 0  # <= 0.1 is low


def test_eao_partial_uses_the_j_minus_1_divisor_for_failed_runs():
    failed = np.array([0.0, 1.0, 0.5, 0.0, 0.0])  # overlaps after the failure already zeroed
    succeeded = np.array([0.0, 0.8, 0.6])
    phi, active = vot2020.eao_partial([failed, succeeded], [False, True], 8)
    hand_phi, hand_active = [0.0] * 8, [0] * 8
    for j in range(1, 8):
        total, count = 0.0, 0
        if j < len(failed):
            total += sum(failed[1:j + 1]) / j
        else:
            total += sum(failed[1:]) / (j - 1)
        count += 1
        if j < len(succeeded):
            total += sum(succeeded[1:j + 1]) / j
            count += 1
        hand_phi[j], hand_active[j] = total / count, count
    assert phi == pytest.approx(hand_phi)
    assert active.tolist() == hand_active
    assert phi[6] == pytest.approx(1.5 / 5)  # the divisor is j - 1 = 5, not 6


def test_run_multistart_runs_forward_and_backward_from_anchors():
    seen = []

    class Recorder:
        def initialize(self, image, info):
            seen.append(("init", int(image)))

        def track(self, image, info):
            seen.append(("track", int(image)))
            return GT_BOX

    runs = vot2020.run_multistart(Recorder, make_seq("s", 6, {0: 1, 3: -1}), image_loader=int)
    assert sorted(runs) == [0, 3]
    assert runs[0].trajectory[0] == INIT and len(runs[0].trajectory) == 6
    assert len(runs[3].trajectory) == 4 and runs[3].reverse
    assert seen[6:] == [("init", 3), ("track", 2), ("track", 1), ("track", 0)]


def test_accuracy_counts_the_init_frame_as_zero_and_weights_by_progress():
    n = 20
    seq = make_seq("s", n, {0: 1, 10: 1})
    perfect_from_0 = [INIT] + [GT_BOX] * (n - 1)
    lost_from_10 = [INIT] + [FAR] * 9  # the init entry (0) starts the 10-frame streak: progress 0
    result = vot2020.evaluate([seq], {"s": {0: perfect_from_0, 10: lost_from_10}}, low=2, high=10)
    # run 0: progress 20, overlaps sum 19 (init scores 0); run 10: init counts as low too -> progress 0
    assert result.per_sequence["s"]["Accuracy"] == pytest.approx(19 / 20)
    assert result.per_sequence["s"]["Robustness"] == pytest.approx(20 / 30)
    assert result.protocol == "vot2020"


def test_eao_combines_sequences_by_active_runs():
    seq_a = make_seq("a", 6, {0: 1})
    seq_b = make_seq("b", 4, {0: 1})
    traj_a = [INIT] + [GT_BOX] * 5
    traj_b = [INIT] + [GT_BOX] * 3
    result = vot2020.evaluate([seq_a, seq_b], {"a": {0: traj_a}, "b": {0: traj_b}}, low=1, high=8)
    curve = result.curves["eao"].values
    # both runs succeed: a is active for j = 1..5, b for j = 1..3; perfect overlaps give 1 where active
    assert curve.tolist() == [0.0, 1, 1, 1, 1, 1, 0, 0]
    assert result.scores["EAO"] == pytest.approx(np.mean(curve[1:9]))
    # the window [1, 8] reaches past the longest run (6 frames): the zeros are named, not silent
    assert "longest anchor run (6 frames)" in result.extra["warnings"][0]
    assert not vot2020.evaluate([seq_a], {"a": {0: traj_a}}, low=1, high=6).extra["warnings"]
