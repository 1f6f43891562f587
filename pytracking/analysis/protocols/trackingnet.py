"""TrackingNet as the evaluation server scores it (devkit ``metrics.py``, metrics.md §5).

* A missing result file counts as all-zero boxes. A short file is padded with NaN rows (pandas
  aligns the columns by index), a long one is cut.
* Both boxes are **rounded to integers** (``np.round``: half to even) and the first result is set
  to the GT. IoU in the "+1" form with a rounded, non-negative intersection; a 0/0 IoU is NaN and
  fails. Centres ``x + (w + 1)/2``; normalised distance ``sqrt((dx/w_gt)² + (dy/h_gt)²)``.
* Per sequence: ``#(IoU >= t)/N`` for 21 t in [0, 1], ``#(dist <= t)/N`` for 21 t in [0, 50] px and
  ``#(ndist <= t)/N`` for 21 t in [0, 0.5]; curves averaged over sequences.
* Every number is the trapezoid area ``np.trapezoid(curve, x=linspace(0, 1, 21)) × 100``: a perfect
  tracker scores 100, and "Precision" is the area under the 0–50 px curve over 50, not P@20.
* Coverage = % of frames (pooled) whose rounded submitted box does not sum to <= 0 or NaN.
* Sequences without full ground truth (the TEST split) are refused: only the server has it.

Several runs of one sequence are averaged (the server takes one submission).
"""
from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as Seq

import numpy as np

from pytracking.analysis.protocols.base import Curve, InvalidResultsError, ProtocolResult, RepairLog
from pytracking.analysis.protocols.ope import Batch, CurveSpec, cut_or_pad, make_batch, sequence_curves
from pytracking.evaluation.sequence import Sequence

NAME = "trackingnet"
DESCRIPTION = ("trackingnet (devkit/server: integer-rounded boxes, IoU >= t, scores = trapezoid area of "
               "21-point curves x100, precision over 0-50 px)")
N_POINTS = 21
AREA_X = np.linspace(0, 1, N_POINTS)
CURVES = (
    CurveSpec("success", np.linspace(0, 1, N_POINTS), ">="),
    CurveSpec("precision", np.linspace(0, 50, N_POINTS), "<="),
    CurveSpec("norm_precision", np.linspace(0, 0.5, N_POINTS), "<="),
)
_pad_nan = cut_or_pad(np.nan)


def _length_rule(boxes: np.ndarray | None, seq: Sequence, repairs: RepairLog) -> tuple[np.ndarray, int]:
    """A missing file is all-zero boxes; short files are padded with NaN rows, long ones cut.

    Sequences without full ground truth (the TEST split has frame 1 only) are refused: the
    evaluation server scores those.
    """
    if np.isnan(seq.ground_truth).any():
        raise InvalidResultsError(f"{seq.name}: ground truth is missing for some frames (the TrackingNet test "
                                  f"split is scored by the evaluation server)")
    if boxes is None:
        repairs.add("missing result files scored as zero boxes", seq.name)
        return np.zeros((len(seq.ground_truth), 4)), len(seq.ground_truth)
    return _pad_nan(boxes, seq, repairs)


def frame_errors(batch: Batch, repairs: RepairLog) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The devkit's per-frame IoU, distance and normalised distance, plus the coverage flags."""
    gt = np.round(batch.gt)
    pred = np.round(batch.pred)
    pred[batch.first] = gt[batch.first]
    covered = pred.sum(axis=1) > 0
    batch.log(repairs, "NaN result boxes (fail, lower coverage)", np.isnan(pred).any(axis=1) & ~batch.padded)
    gx, gy, gw, gh = gt.T
    px, py, pw, ph = pred.T
    iw = np.clip(np.round(np.minimum(gx + gw - 1.0, px + pw - 1.0) - np.maximum(gx, px) + 1), 0, None)
    ih = np.clip(np.round(np.minimum(gy + gh - 1.0, py + ph - 1.0) - np.maximum(gy, py) + 1), 0, None)
    inter = iw * ih
    dx = (gx + (gw + 1.0) / 2.0) - (px + (pw + 1.0) / 2.0)
    dy = (gy + (gh + 1.0) / 2.0) - (py + (ph + 1.0) / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / (gw * gh + pw * ph - inter)
        ndist = np.sqrt(dx / gw * dx / gw + dy / gh * dy / gh)
    return iou, np.sqrt(dx * dx + dy * dy), ndist, covered


def evaluate(sequences: Seq[Sequence], predictions: Mapping[str, Seq[np.ndarray]],
             tracker: str = "tracker") -> ProtocolResult:
    """Score one tracker as the TrackingNet server does; missing sequences score as zero boxes.

    Scores (×100): ``Success``, ``Precision``, ``NormPrecision`` (trapezoid areas) and ``Coverage``
    (%); per sequence the same areas from that sequence's curves.
    """
    repairs = RepairLog()
    batch = make_batch(sequences, predictions, _length_rule, repairs)
    iou, dist, ndist, covered = frame_errors(batch, repairs)
    values = {"success": iou, "precision": dist, "norm_precision": ndist}
    denominators = batch.run_lengths().astype(np.float64)
    curves = {spec.name: sequence_curves(batch, values[spec.name], spec, denominators) for spec in CURVES}
    names = [s.name for s in sequences]
    keys = {"success": "Success", "precision": "Precision", "norm_precision": "NormPrecision"}
    mean = {k: v.mean(axis=0) for k, v in curves.items()}
    scores = {keys[k]: 100 * float(np.trapezoid(mean[k], x=AREA_X)) for k in keys}
    scores["Coverage"] = 100 * float(covered.mean()) if len(covered) else float("nan")
    per_seq = {name: {keys[k]: 100 * float(np.trapezoid(curves[k][i], x=AREA_X)) for k in keys}
               for i, name in enumerate(names)}
    out_curves = {spec.name: Curve(spec.thresholds, mean[spec.name], curves[spec.name], names) for spec in CURVES}
    return ProtocolResult(NAME, DESCRIPTION, tracker, scores, per_seq, out_curves, repairs)
