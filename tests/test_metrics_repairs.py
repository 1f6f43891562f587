"""The same bad result under each protocol's own rule (metrics.md §1, "invalid prediction")."""
import math

import numpy as np
import pytest

from pytracking.analysis.protocols import evaluate
from pytracking.analysis.protocols.base import InvalidResultsError
from pytracking.evaluation.sequence import Sequence

GT = np.array([[10, 10, 20, 20]] * 4, float)
ZERO_SIZE = np.array([[10, 10, 20, 20], [10, 10, 20, 20], [10, 10, 0, 0], [10, 10, 20, 20]], float)
SEQ = Sequence("s", "x", [""] * 4, GT, image_size=(100, 100))


def success_at_zero(protocol, boxes):
    return evaluate(protocol, [SEQ], {"s": boxes}).curves["success"].values[0]


@pytest.mark.parametrize("protocol", ["otb", "uav", "nfs", "lasot"])
def test_zero_size_boxes_are_carried_over_where_the_toolkit_does_it(protocol):
    result = evaluate(protocol, [SEQ], {"s": ZERO_SIZE})
    assert result.curves["success"].values[0] == pytest.approx(1.0)  # frame 3 took frame 2's box
    assert result.repairs.lines()


def test_zero_size_boxes_fail_on_trackingnet_and_got10k():
    # TrackingNet: IoU 0 passes only t = 0 (>=); GOT-10k: IoU 0 over frames 2..4
    assert evaluate("trackingnet", [SEQ], {"s": ZERO_SIZE}).curves["success"].values[1] == pytest.approx(0.75)
    assert evaluate("got10k", [SEQ], {"s": ZERO_SIZE}).scores["AO"] == pytest.approx(2 / 3)


def test_nan_boxes_each_protocol_its_way():
    nan_row = GT.copy()
    nan_row[2] = np.nan
    with pytest.raises(InvalidResultsError):
        evaluate("otb", [SEQ], {"s": nan_row})
    assert success_at_zero("lasot", nan_row) == pytest.approx(1.0)           # replaced by the previous box
    assert math.isnan(evaluate("got10k", [SEQ], {"s": nan_row}).scores["AO"])  # AO becomes NaN
    tn = evaluate("trackingnet", [SEQ], {"s": nan_row})
    assert tn.curves["success"].values[0] == pytest.approx(0.75) and tn.scores["Coverage"] == pytest.approx(75)
