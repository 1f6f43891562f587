"""Properties every protocol must keep: IoU symmetric and in [0, 1]; scores never drop when predictions improve."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytracking.analysis.protocols import PROTOCOLS, evaluate, got10k, lasot, otb
from pytracking.analysis.protocols.base import count_curve
from pytracking.evaluation.sequence import Sequence

coord = st.floats(-50, 150, allow_nan=False)
size = st.floats(0.5, 80, allow_nan=False)
box = st.tuples(coord, coord, size, size)


@settings(max_examples=80, deadline=None)
@given(box, box)
def test_ious_are_symmetric_and_in_unit_interval(a, b):
    a, b = np.array([a]), np.array([b])
    for iou in (lambda p, q: got10k.rect_iou(p, q), lambda p, q: got10k.rect_iou(p, q, (100, 100)),
                otb.pytracking_iou, lasot.lasot_iou):
        ab, ba = iou(a, b)[0], iou(b, a)[0]
        assert ab == pytest.approx(ba, abs=1e-12)
        assert -1e-12 <= ab <= 1 + 1e-9


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.05, 1.0))
def test_scores_do_not_drop_when_some_predictions_become_perfect(seed, fraction):
    rng = np.random.default_rng(seed)
    n = 30
    gt = np.round(np.c_[rng.uniform(1, 80, (n, 2)), rng.uniform(5, 40, (n, 2))])
    pred = gt + np.round(rng.normal(0, 10, (n, 4)))
    pred[:, 2:] = np.maximum(pred[:, 2:], 1)
    better = pred.copy()
    fixed = rng.random(n) < fraction
    better[fixed] = gt[fixed]
    seq = Sequence("s", "x", [""] * n, gt, image_size=(200, 200))
    for name, info in PROTOCOLS.items():
        if info.kind != "boxes":
            continue
        before = evaluate(name, [seq], {"s": pred}).scores[info.main_score]
        after = evaluate(name, [seq], {"s": better}).scores[info.main_score]
        assert after >= before - 1e-12, name


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-1, 2), st.just(float("nan"))), min_size=1, max_size=30))
def test_vectorised_threshold_counting_matches_explicit_comparisons(values):
    values = np.array(values)
    thresholds = np.arange(0, 1.05, 0.05)
    ids = np.zeros(len(values), dtype=int)
    for rule, compare in ((">", np.greater), (">=", np.greater_equal), ("<=", np.less_equal)):
        expected = [sum(bool(compare(v, t)) for v in values) for t in thresholds]
        assert count_curve(values, ids, 1, thresholds, rule)[0].tolist() == expected
