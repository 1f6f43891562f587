"""LaSOT as its official MATLAB toolkit scores it (HengLan/LaSOT_Evaluation_Toolkit, metrics.md §4).

* Results are cut to the GT length (longer files, e.g. monkey-17); a shorter file is refused
  (MATLAB would fail on the index).
* ``calc_seq_err_robust.m``: from frame 2 on, a result row is replaced by the previous (already
  repaired) one when ``(sum(isnan(r)) | ~isreal(r) | r(3)<=0 | r(4)<=0) & ~isnan(r_anno)`` holds.
  The left part is a scalar — any NaN in the row, or w <= 0, or h <= 0 — and the ``&`` with the
  1x4 ``~isnan(r_anno)`` makes a 1x4 vector that MATLAB's ``if`` accepts only when all four are
  true: so a row with **any** NaN, or w <= 0, or h <= 0 is replaced whenever the GT row has no
  NaN, and kept as it is (a failure) when the GT row has a NaN. Frame 1 keeps its raw result
  during this loop (a bad frame 2 copies it) and is set to the GT afterwards.
* Continuous IoU (``calc_rect_int.m``, the "+1" form); centres ``x + (w - 1)/2``; normalised
  centres divided by the GT w, h. Frames whose GT has any value <= 0 get overlap -1 (fail) and
  centre errors -1 (succeed).
* Absent frames (``target_visible == False``) are deleted from the numerators, but every
  curve is divided by the **full** sequence length (+eps), so absent frames count as failures.
* ``plot_draw_save.m``: for each curve, sequences whose whole curve sums to <= eps are dropped
  before averaging. AUC = mean of the 21-point success curve (``0:0.05:1``); precision and
  normalised precision are read at ``rank_idx = 21``: 20 px and 0.20.

Thresholds follow MATLAB's colon operator (symmetric construction), which can differ from
``numpy.arange`` in the last bit. Several runs of one sequence are averaged (the toolkit has one).
"""
from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as Seq

import numpy as np

from pytracking.analysis.protocols.base import Curve, InvalidResultsError, ProtocolResult, RepairLog
from pytracking.analysis.protocols.ope import Batch, CurveSpec, forward_fill, make_batch, require_all, sequence_curves
from pytracking.evaluation.sequence import Sequence

NAME = "lasot"
DESCRIPTION = ("lasot (official MATLAB toolkit: absent frames count as failures, zero-curve sequences dropped, "
               "AUC = mean of 21 thresholds IoU > t, P@20px, NP@0.20)")
EPS = np.finfo(np.float64).eps


def matlab_colon(start: float, step: float, stop: float) -> np.ndarray:
    """``start:step:stop`` as MATLAB builds it: the first half counts up from ``start``, the
    second half down from ``stop``, and the middle of an even count is ``(start + stop) / 2``."""
    n = int(np.floor((stop - start) / step + 1e-10))
    k = np.arange(n + 1)
    out = np.where(k <= n // 2, start + k * step, stop - (n - k) * step)
    if n % 2 == 0:
        out[n // 2] = (start + stop) / 2
    return out


CURVES = (
    CurveSpec("success", matlab_colon(0, 0.05, 1), ">"),
    CurveSpec("precision", matlab_colon(0, 1, 50), "<="),
    CurveSpec("norm_precision", matlab_colon(0, 0.01, 0.5), "<="),
)
RANK_INDEX = 20  # MATLAB rank_idx = 21


def lasot_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``calc_rect_int.m``: intersection over union with right = x + w - 1 and +1 widths."""
    px, py, pw, ph = pred.T
    gx, gy, gw, gh = gt.T
    iw = np.maximum(0, np.minimum(px + pw - 1, gx + gw - 1) - np.maximum(px, gx) + 1)
    ih = np.maximum(0, np.minimum(py + ph - 1, gy + gh - 1) - np.maximum(py, gy) + 1)
    inter = iw * ih
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (pw * ph + gw * gh - inter)


def _cut_to_gt(boxes: np.ndarray | None, seq: Sequence, repairs: RepairLog) -> tuple[np.ndarray, int]:
    """Length rule: longer results are cut (monkey-17); shorter ones are refused."""
    n = len(seq.ground_truth)
    if boxes is None:
        raise KeyError(f"no results for sequence {seq.name}")
    if len(boxes) < n:
        raise InvalidResultsError(f"{seq.name}: {len(boxes)} result rows for {n} ground-truth frames; "
                                  f"the LaSOT toolkit needs at least one row per frame")
    repairs.add("extra result rows cut", seq.name, len(boxes) - n)
    return boxes[:n], n


def frame_errors(batch: Batch, repairs: RepairLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``calc_seq_err_robust.m`` on every frame: ``(overlap, centre error, normalised error)``.

    Absent frames are NaN, which passes no threshold: the same as deleting them from the
    numerators while the denominators keep the full length.
    """
    w, h = batch.pred[:, 2], batch.pred[:, 3]
    gt_nan = np.isnan(batch.gt).any(axis=1)
    bad = np.isnan(batch.pred).any(axis=1) | (w <= 0) | (h <= 0)
    replace = bad & ~gt_nan & ~batch.first
    pred = forward_fill(batch.pred, replace) if replace.any() else batch.pred.copy()
    batch.log(repairs, "NaN or non-positive-size boxes replaced by the previous box", replace)
    batch.log(repairs, "NaN or non-positive-size boxes kept as failures (NaN ground truth)", bad & gt_nan & ~batch.first)
    pred[batch.first] = batch.gt[batch.first]

    gx, gy, gw, gh = batch.gt.T
    pcx, pcy = pred[:, 0] + (pred[:, 2] - 1) / 2, pred[:, 1] + (pred[:, 3] - 1) / 2
    gcx, gcy = gx + (gw - 1) / 2, gy + (gh - 1) / 2
    center = np.sqrt((pcx - gcx) ** 2 + (pcy - gcy) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm_center = np.sqrt((pcx / gw - gcx / gw) ** 2 + (pcy / gh - gcy / gh) ** 2)
    valid = (gx > 0) & (gy > 0) & (gw > 0) & (gh > 0)
    overlap = np.where(valid, lasot_iou(pred, batch.gt), -1.0)
    center[~valid] = -1.0
    norm_center[~valid] = -1.0
    for values in (overlap, center, norm_center):
        values[~batch.visible] = np.nan
    return overlap, center, norm_center


def _average(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the sequences whose curve sums to more than eps; also returns the kept mask."""
    kept = curves.sum(axis=1) > EPS
    return (curves[kept].mean(axis=0) if kept.any() else np.zeros(curves.shape[1])), kept


def evaluate(sequences: Seq[Sequence], predictions: Mapping[str, Seq[np.ndarray]],
             tracker: str = "tracker") -> ProtocolResult:
    """Score one tracker as the LaSOT toolkit does.

    Scores (×100): ``AUC``, ``Precision`` (20 px), ``NormPrecision`` (0.20); per sequence the
    same from that sequence's curves; ``extra["dropped"]`` lists sequences with an all-zero curve.
    """
    require_all(sequences, predictions, tracker)
    repairs = RepairLog()
    batch = make_batch(sequences, predictions, _cut_to_gt, repairs)
    values = dict(zip(("success", "precision", "norm_precision"), frame_errors(batch, repairs)))
    denominators = batch.run_lengths() + EPS
    curves = {spec.name: sequence_curves(batch, values[spec.name], spec, denominators) for spec in CURVES}
    names = [s.name for s in sequences]
    mean, dropped = {}, {}
    for spec in CURVES:
        mean[spec.name], kept = _average(curves[spec.name])
        dropped[spec.name] = [n for n, k in zip(names, kept) if not k]
        for seq in dropped[spec.name]:
            repairs.add(f"all-zero {spec.name} curves dropped from the average", seq)
    per_seq = {name: {"AUC": 100 * curves["success"][i].mean(),
                      "Precision": 100 * curves["precision"][i, RANK_INDEX],
                      "NormPrecision": 100 * curves["norm_precision"][i, RANK_INDEX]}
               for i, name in enumerate(names)}
    scores = {"AUC": 100 * mean["success"].mean(), "Precision": 100 * mean["precision"][RANK_INDEX],
              "NormPrecision": 100 * mean["norm_precision"][RANK_INDEX]}
    out_curves = {spec.name: Curve(spec.thresholds, mean[spec.name], curves[spec.name], names) for spec in CURVES}
    return ProtocolResult(NAME, DESCRIPTION, tracker, scores, per_seq, out_curves, repairs, {"dropped": dropped})
