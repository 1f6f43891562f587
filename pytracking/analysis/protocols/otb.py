"""OTB100, UAV123 and NfS in the pytracking convention (``pytracking/analysis/extract_results.py``).

This is how most published OTB/UAV/NfS numbers were computed (metrics.md §3):

* Results with a NaN or a negative width/height are **refused** (pytracking raises) — checked on
  the whole file, *before* it is cut to the GT length, as ``calc_seq_err_robust`` does, so a bad
  row past the last GT frame refuses the results too. NaN ground truth is refused as well,
  except on UAV123, whose NaN rows mark absent targets.
* A predicted box with w or h == 0 is replaced by the previous frame's box (from frame 2 on,
  only where the GT row is not NaN); then predictions are cut to the GT length or padded with
  zero boxes (which fail); then frame 1 is set to the GT.
* A frame is valid when all four GT values are > 0. Invalid frames get overlap -1 (fails every
  threshold), centre error +Inf (fails) — but -1 (**succeeds**) on UAV123 — and normalised
  centre error -1 (succeeds).
* IoU in pytracking's "-1 … +1" form (continuous IoU, no eps, no image bound); centres
  ``x + 0.5 (w - 1)``; normalised centres are divided by the GT size.
* Per sequence, ``#(overlap > t) / L`` for t in ``arange(0, 1.05, 0.05)`` and ``#(err <= t) / L`` for
  t = 0..50 px and 0..0.5 (step 0.01); ``L`` = all GT frames, or only the valid ones with
  ``exclude_invalid_frames`` (then UAV precision can exceed 100 %, a real pytracking artefact).
* Runs of one sequence are averaged (``merge_results``); curves are averaged over sequences.
  AUC = mean of the 21-point success curve × 100 (a perfect tracker scores 95.2), OP50/OP75 =
  the curve at 0.50/0.75, Precision = the curve at 20 px, Norm precision = the curve at 0.20.

pytracking stores curves as float32; these are float64 (differences below 1e-4 points). The
"-1 … +1" arithmetic is kept on purpose: on non-integer boxes it can give a perfect prediction an
IoU of 1 + 1e-15, which then passes t = 1 (so > 95.2), exactly as pytracking does.
"""
from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as Seq

import numpy as np

from pytracking.analysis.protocols.base import Curve, InvalidResultsError, ProtocolResult, RepairLog
from pytracking.analysis.protocols.ope import (
    Batch,
    CurveSpec,
    cut_or_pad,
    forward_fill,
    make_batch,
    require_all,
    runs_of,
    sequence_curves,
)
from pytracking.evaluation.sequence import Sequence

OVERLAP_THRESHOLDS = np.arange(0.0, 1.0 + 0.05, 0.05)
CENTER_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
NORM_THRESHOLDS = np.arange(0, 51, dtype=np.float64) / 100.0
CURVES = (
    CurveSpec("success", OVERLAP_THRESHOLDS, ">"),
    CurveSpec("precision", CENTER_THRESHOLDS, "<="),
    CurveSpec("norm_precision", NORM_THRESHOLDS, "<="),
)
DESCRIPTIONS = {
    name: f"{name} (pytracking convention: AUC = mean of 21 thresholds IoU > t, P@20px, NP@0.20; "
          f"invalid GT frames fail{', centre error succeeds' if name == 'uav' else ''})"
    for name in ("otb", "uav", "nfs")
}


def pytracking_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """pytracking's ``calc_iou_overlap``: the continuous IoU written with ``-1`` / ``+1``, no eps."""
    px, py, pw, ph = pred.T
    gx, gy, gw, gh = gt.T
    iw = np.clip(np.minimum(px + pw - 1.0, gx + gw - 1.0) - np.maximum(px, gx) + 1.0, 0, None)
    ih = np.clip(np.minimum(py + ph - 1.0, gy + gh - 1.0) - np.maximum(py, gy) + 1.0, 0, None)
    inter = iw * ih
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (pw * ph + gw * gh - inter)


def pytracking_center_errors(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pytracking's ``calc_err_center``: centres ``x + 0.5 (w - 1)``; plain and divided by GT w, h."""
    px, py, pw, ph = pred.T
    gx, gy, gw, gh = gt.T
    pcx, pcy = px + 0.5 * (pw - 1.0), py + 0.5 * (ph - 1.0)
    gcx, gcy = gx + 0.5 * (gw - 1.0), gy + 0.5 * (gh - 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = np.sqrt((pcx / gw - gcx / gw) ** 2 + (pcy / gh - gcy / gh) ** 2)
    return np.sqrt((pcx - gcx) ** 2 + (pcy - gcy) ** 2), norm


def _refuse_invalid(sequences: Seq[Sequence], predictions: Mapping[str, Seq[np.ndarray]]) -> None:
    """pytracking's first check, on the raw results before any length fix: NaN or negative w/h
    anywhere in a file refuses it, naming the sequence, run and frame."""
    for seq in sequences:
        for run, boxes in enumerate(runs_of(predictions, seq.name), start=1):
            bad = np.isnan(boxes).any(axis=1) | (boxes[:, 2] < 0) | (boxes[:, 3] < 0)
            if bad.any():
                i = int(np.argmax(bad))
                raise InvalidResultsError(f"{seq.name}: run {run}, frame {i + 1}: invalid box {boxes[i].tolist()} "
                                          f"(NaN or negative size); pytracking refuses such results "
                                          f"({int(bad.sum())} such frames)")


def _check(batch: Batch, dataset: str) -> None:
    """Refuse NaN ground truth where pytracking does (everywhere but UAV123)."""
    gt_nan = np.isnan(batch.gt).any(axis=1)
    if gt_nan.any() and dataset != "uav":
        raise InvalidResultsError(f"{batch.locate(int(np.argmax(gt_nan)))}: NaN ground truth; "
                                  f"pytracking allows NaN ground truth only on UAV123")


def frame_errors(batch: Batch, dataset: str, repairs: RepairLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pytracking's ``calc_seq_err_robust`` on every frame of the batch: repairs, then
    ``(overlap, centre error, normalised centre error)`` with the invalid-frame codes."""
    _check(batch, dataset)
    gx, gy, gw, gh = batch.gt.T
    gt_nan = np.isnan(gx) | np.isnan(gy) | np.isnan(gw) | np.isnan(gh)
    zero = (batch.pred[:, 2] == 0) | (batch.pred[:, 3] == 0)
    replace = zero & ~gt_nan & ~batch.padded & ~batch.first
    pred = forward_fill(batch.pred, replace) if replace.any() else batch.pred.copy()
    batch.log(repairs, "zero-size boxes replaced by the previous box", replace)
    pred[batch.first] = batch.gt[batch.first]

    valid = (gx > 0) & (gy > 0) & (gw > 0) & (gh > 0)
    overlap = pytracking_iou(pred, batch.gt)
    center, norm_center = pytracking_center_errors(pred, batch.gt)
    overlap[~valid] = -1.0
    center[~valid] = -1.0 if dataset == "uav" else np.inf
    norm_center[~valid] = -1.0
    return overlap, center, norm_center


def evaluate(sequences: Seq[Sequence], predictions: Mapping[str, Seq[np.ndarray]], tracker: str = "tracker",
             dataset: str = "otb", exclude_invalid_frames: bool = False) -> ProtocolResult:
    """Score one tracker on ``sequences`` under pytracking's rules for ``dataset`` (otb, uav, nfs).

    ``predictions[seq_name]`` is one ``N x 4`` array or a list of runs. Scores (×100): ``AUC``,
    ``OP50``, ``OP75``, ``Precision`` (20 px), ``NormPrecision`` (0.20); the same per sequence.
    The NaN / negative-size check sees every row, including those past the GT length.
    """
    if dataset not in DESCRIPTIONS:
        raise ValueError(f"unknown pytracking dataset {dataset!r}; expected one of {sorted(DESCRIPTIONS)}")
    require_all(sequences, predictions, tracker)
    _refuse_invalid(sequences, predictions)
    repairs = RepairLog()
    batch = make_batch(sequences, predictions, cut_or_pad(0.0), repairs)
    overlap, center, norm_center = frame_errors(batch, dataset, repairs)
    if exclude_invalid_frames:
        valid = (batch.gt > 0).all(axis=1)
        denominators = batch.per_run(valid).astype(np.float64)
    else:
        denominators = batch.run_lengths().astype(np.float64)
    values = {"success": overlap, "precision": center, "norm_precision": norm_center}
    curves = {spec.name: sequence_curves(batch, values[spec.name], spec, denominators) for spec in CURVES}
    names = [s.name for s in sequences]
    success, precision, norm = curves["success"], curves["precision"], curves["norm_precision"]
    per_seq = {name: {"AUC": 100 * success[i].mean(), "OP50": 100 * success[i, 10], "OP75": 100 * success[i, 15],
                      "Precision": 100 * precision[i, 20], "NormPrecision": 100 * norm[i, 20]}
               for i, name in enumerate(names)}
    mean = {k: v.mean(axis=0) for k, v in curves.items()}
    scores = {"AUC": 100 * mean["success"].mean(), "OP50": 100 * mean["success"][10],
              "OP75": 100 * mean["success"][15], "Precision": 100 * mean["precision"][20],
              "NormPrecision": 100 * mean["norm_precision"][20]}
    name = dataset + ("+exclude_invalid" if exclude_invalid_frames else "")
    out_curves = {spec.name: Curve(spec.thresholds, mean[spec.name], curves[spec.name], names) for spec in CURVES}
    return ProtocolResult(name, DESCRIPTIONS[dataset], tracker, scores, per_seq, out_curves, repairs)
