"""GOT-10k as the got10k toolkit's ``ExperimentGOT10k.report`` scores it (metrics.md §2.1–2.2).

* Per sequence and repetition: ``rect_iou(boxes[1:], anno[1:], bound=(W, H))``: both boxes are
  clipped to the image in place (``x <- clip(x, 0, W)``, ``w <- clip(w, 0, W - x)``, same for y/h),
  IoU = ``inter / (union + eps)`` clipped to [0, 1]. The first frame is excluded, and so are
  frames with ``cover == 0``.
* The IoUs of all repetitions and all sequences are **pooled**: AO = mean IoU, SR0.5 =
  mean(IoU > 0.5), success curve = mean(IoU > t) for 101 t in [0, 1], SR0.75 = curve[75]. This is
  a frame-weighted mean, not a mean of per-sequence AOs.
* Speed (fps) = mean(1/t) pooled over all time entries that are not NaN and > 0.
* A NaN box gives a NaN IoU and makes AO NaN, as in the toolkit (reported as a repair).
* Shapes must match (the toolkit asserts): a wrong-length result is refused.

Without ``cover`` in ``Sequence.extra`` all frames count as covered; without ``image_size``
no bound is applied (the toolkit always has ``meta_info.ini``'s resolution).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Sequence as Seq

import numpy as np

from pytracking.analysis.protocols.base import Curve, InvalidResultsError, ProtocolResult, RepairLog, count_curve
from pytracking.analysis.protocols.ope import Batch, make_batch, require_all
from pytracking.evaluation.sequence import Sequence

NAME = "got10k"
DESCRIPTION = ("got10k (GOT-10k toolkit: frames 2..N with cover > 0, image-bounded IoU, AO/SR pooled over all "
               "frames, sequences and repetitions, 101 thresholds IoU > t)")
THRESHOLDS = np.linspace(0, 1, 101)


def bound_boxes(boxes: np.ndarray, width: np.ndarray | float, height: np.ndarray | float) -> np.ndarray:
    """got10k's in-place clip (on a copy here): x to [0, W], then w to [0, W - x]; same for y, h."""
    out = np.array(boxes, dtype=np.float64)
    out[:, 0] = np.clip(out[:, 0], 0, width)
    out[:, 1] = np.clip(out[:, 1], 0, height)
    out[:, 2] = np.clip(out[:, 2], 0, width - out[:, 0])
    out[:, 3] = np.clip(out[:, 3], 0, height - out[:, 1])
    return out


def rect_iou(boxes1: np.ndarray, boxes2: np.ndarray, bound: tuple | None = None) -> np.ndarray:
    """got10k ``rect_iou``: continuous IoU with ``eps`` in the union, clipped to [0, 1].

    ``bound`` is ``(W, H)``: two numbers, or two per-row arrays.
    """
    if bound is not None:
        boxes1, boxes2 = bound_boxes(boxes1, *bound), bound_boxes(boxes2, *bound)
    x1 = np.maximum(boxes1[:, 0], boxes2[:, 0])
    y1 = np.maximum(boxes1[:, 1], boxes2[:, 1])
    x2 = np.minimum(boxes1[:, 0] + boxes1[:, 2], boxes2[:, 0] + boxes2[:, 2])
    y2 = np.minimum(boxes1[:, 1] + boxes1[:, 3], boxes2[:, 1] + boxes2[:, 3])
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    union = boxes1[:, 2] * boxes1[:, 3] + boxes2[:, 2] * boxes2[:, 3] - inter
    return np.clip(inter / (union + np.finfo(float).eps), 0.0, 1.0)


def _same_shape(boxes: np.ndarray | None, seq: Sequence, repairs: RepairLog) -> tuple[np.ndarray, int]:
    """Length rule: the toolkit asserts that results and annotation have the same shape."""
    if boxes is None:
        raise KeyError(f"no results for sequence {seq.name}")
    if boxes.shape != seq.ground_truth.shape:
        raise InvalidResultsError(f"{seq.name}: {len(boxes)} boxes for {len(seq.ground_truth)} frames; "
                                  f"the GOT-10k toolkit requires equal shapes")
    return boxes, len(boxes)


def _per_frame(batch: Batch, make: Callable[[Sequence], np.ndarray]) -> np.ndarray:
    """A per-sequence array repeated for every run of the batch, concatenated."""
    parts = [make(batch.sequences[s]) for s in batch.run_seq]
    return np.concatenate(parts) if parts else np.zeros(0)


def scored_ious(batch: Batch, repairs: RepairLog) -> tuple[np.ndarray, np.ndarray]:
    """IoUs of the scored frames (not the first, cover > 0) and the sequence index of each."""
    cover = _per_frame(batch, lambda s: np.asarray(s.extra.get("cover", np.ones(len(s.ground_truth))), float))
    keep = (cover > 0) & ~batch.first
    if np.isnan(batch.gt[keep]).any():
        where = batch.locate(int(np.flatnonzero(keep & np.isnan(batch.gt).any(axis=1))[0]))
        raise InvalidResultsError(f"{where}: no ground truth for a covered frame after frame 1 "
                                  f"(GOT-10k test results are scored by the evaluation server)")
    width = _per_frame(batch, lambda s: np.full(len(s.ground_truth), s.image_size[0] if s.image_size else np.inf))
    height = _per_frame(batch, lambda s: np.full(len(s.ground_truth), s.image_size[1] if s.image_size else np.inf))
    pred, gt = batch.pred[keep], batch.gt[keep]
    bounded = np.isfinite(width[keep])
    if bounded.all():
        ious = rect_iou(pred, gt, (width[keep], height[keep]))
    else:
        ious = rect_iou(pred, gt)
        ious[bounded] = rect_iou(pred[bounded], gt[bounded], (width[keep][bounded], height[keep][bounded]))
    batch.log(repairs, "NaN boxes (IoU NaN, AO becomes NaN as in the toolkit)", keep & np.isnan(batch.pred).any(axis=1))
    return ious, batch.run_seq[batch.run_ids[keep]]


def _flat_times(times: object) -> np.ndarray:
    """All time entries of one sequence (one array, a frames x runs table, or a list of runs)."""
    if times is None:
        return np.zeros(0)
    if isinstance(times, np.ndarray):
        return times.astype(np.float64).ravel()
    parts = [np.asarray(t, dtype=np.float64).ravel() for t in times]
    return np.concatenate(parts) if parts else np.zeros(0)


def _speed(t: np.ndarray) -> float:
    t = t[~np.isnan(t)]
    t = t[t > 0]
    return float(np.mean(1.0 / t)) if len(t) else float("nan")


def evaluate(sequences: Seq[Sequence], predictions: Mapping[str, Seq[np.ndarray]], tracker: str = "tracker",
             times: Mapping[str, Seq[np.ndarray]] | None = None) -> ProtocolResult:
    """Score one tracker as the GOT-10k toolkit does.

    ``predictions[seq]`` is one array or a list of repetitions; ``times[seq]`` (optional) the
    per-frame seconds of each repetition. Scores (fractions, as the toolkit): ``AO``, ``SR0.50``,
    ``SR0.75``, ``FPS``; the same per sequence; the 101-point pooled success curve.
    """
    require_all(sequences, predictions, tracker)
    repairs = RepairLog()
    batch = make_batch(sequences, predictions, _same_shape, repairs)
    ious, seq_ids = scored_ious(batch, repairs)
    n_seq = len(sequences)
    frames = np.bincount(seq_ids, minlength=n_seq).astype(np.float64)
    counts = count_curve(ious, seq_ids, n_seq, THRESHOLDS, ">")
    with np.errstate(invalid="ignore", divide="ignore"):
        seq_ao = np.bincount(seq_ids, weights=ious, minlength=n_seq) / frames
        seq_curves = counts / frames[:, None]
        curve = counts.sum(axis=0) / frames.sum()
    seq_times = [_flat_times(times.get(s.name) if times else None) for s in sequences]
    per_seq = {s.name: {"AO": seq_ao[i], "SR0.50": seq_curves[i, 50], "SR0.75": seq_curves[i, 75],
                        "FPS": _speed(seq_times[i])} for i, s in enumerate(sequences)}
    all_times = np.concatenate(seq_times) if seq_times else np.zeros(0)
    scores = {"AO": float(np.mean(ious)) if len(ious) else float("nan"), "SR0.50": curve[50], "SR0.75": curve[75],
              "FPS": _speed(all_times)}
    curves = {"success": Curve(THRESHOLDS, curve, seq_curves, [s.name for s in sequences])}
    return ProtocolResult(NAME, DESCRIPTION, tracker, scores, per_seq, curves, repairs)
