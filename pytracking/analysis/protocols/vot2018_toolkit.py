"""VOT2018 short-term as vot-toolkit's own supervised analysis scores it (protocol ``vot2018_toolkit``).

``vot/analysis/supervised.py`` (0.7.x) on the ``vot2018/shortterm`` stack, rule for rule; these
numbers differ from the published VOT2018 ones (protocol ``vot2018``, the legacy evaluation):

* Overlap: vot-toolkit's raster overlap (``vot_region.region_overlap``) bounded to the image;
  a special code scores as an empty region.
* Accuracy per run: mean overlap over the frames that are not unknown (``0``), not a failure
  (``2``) and not within ``burnin = 10`` frames of an initialisation; 0 when no frame is left.
  Per sequence: accuracy and failure count averaged over runs. Over sequences: both weighted by
  the sequence length. ``Robustness`` is that weighted mean failure count (not per 100 frames).
* EAO curve: every run split into segments ``[init_i, fail_i)`` (failure frame excluded) plus a
  last successful segment from the last init to the end. Segments all weigh 1. At index ``j`` a
  failed segment counts with ``mean(o[1..j])`` over its zero-padded overlaps, a successful one only
  while ``j`` is inside it; index 0 is the init frame's own overlap. EAO = mean of the curve at
  indices ``low … high`` (the toolkit's ``curve[low:high + 1]``), i.e. one frame later than the
  legacy window.

vot-toolkit keeps these arrays in float32; here they are float64 (differences below 1e-6).
"""
from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as Seq

import numpy as np

from pytracking.analysis.protocols.base import Curve, InvalidResultsError, ProtocolResult, RepairLog
from pytracking.analysis.protocols.vot2018 import EAO_HIGH, EAO_LOW, codes, window_warning
from pytracking.analysis.protocols.vot_region import FAILURE, INIT, UNKNOWN, Region, region_overlap
from pytracking.analysis.protocols.vot_run import gt_regions
from pytracking.evaluation.sequence import Sequence

NAME = "vot2018_toolkit"
DESCRIPTION = ("vot2018_toolkit (vot-toolkit supervised analysis: raster overlap, per-run accuracy after burn-in 10, "
               "length-weighted accuracy and failures, EAO of [init, failure) segments at indices 100-356)")
BURNIN = 10


def run_accuracy(overlaps: np.ndarray, trajectory: Seq[Region], burnin: int = BURNIN) -> float:
    """``compute_accuracy``: mean overlap outside unknown, failure and burn-in frames (0 if none)."""
    keep = np.ones(len(trajectory), dtype=bool)
    for i in codes(trajectory, UNKNOWN):
        keep[i] = False
    for i in codes(trajectory, INIT):
        keep[i: i + burnin] = False
    for i in codes(trajectory, FAILURE):
        keep[i] = False
    return float(np.mean(overlaps[keep])) if keep.any() else 0.0


def segments(overlaps: np.ndarray, trajectory: Seq[Region]) -> list[tuple[np.ndarray, bool]]:
    """``(overlaps, succeeded)`` of each EAO segment of one run (``EAOCurve.subcompute``)."""
    fails, inits = codes(trajectory, FAILURE), codes(trajectory, INIT)
    if len(fails) == 0:
        return [(overlaps, True)]
    out = [(overlaps[inits[i]: fails[i]], False) for i in range(len(fails))]
    if len(inits) > len(fails):
        out.append((overlaps[inits[-1]:], True))
    return out


def eao_curve(parts: Seq[tuple[np.ndarray, bool]]) -> np.ndarray:
    """``compute_eao_curve`` with unit weights: index 0 the init overlap, index j mean(o[1..j])."""
    max_len = max((len(o) for o, _ in parts), default=0)
    if max_len == 0:
        return np.zeros(0)
    values = np.zeros((len(parts), max_len))
    mask = np.zeros((len(parts), max_len))
    for row, (o, ok) in enumerate(parts):
        values[row, : len(o)] = o
        mask[row, : len(o) if ok else max_len] = 1.0
    means = values.copy()
    means[:, 1:] = np.cumsum(values[:, 1:], axis=1) / np.arange(1, max_len)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (means * mask).sum(axis=0) / mask.sum(axis=0)


def evaluate(sequences: Seq[Sequence], trajectories: Mapping[str, Seq[Seq[Region]]], tracker: str = "tracker",
             low: int = EAO_LOW, high: int = EAO_HIGH, burnin: int = BURNIN) -> ProtocolResult:
    """vot-toolkit supervised analysis of stored runs (``trajectories[seq]`` = list of runs).

    Scores: ``EAO``, ``Accuracy``, ``Robustness`` (length-weighted mean failures).
    """
    per_seq, parts = {}, []
    acc_sum = fail_sum = weight_sum = 0.0
    for s in sequences:
        if s.name not in trajectories:
            raise KeyError(f"tracker {tracker}: no VOT runs for sequence {s.name}")
        gt = gt_regions(s)
        runs = list(trajectories[s.name])
        if not runs:
            raise KeyError(f"tracker {tracker}: no VOT runs for sequence {s.name}")
        accuracy = failures = 0.0
        for r, traj in enumerate(runs, start=1):
            if len(traj) != len(gt):
                raise InvalidResultsError(f"{s.name}: run {r} has {len(traj)} entries for {len(gt)} frames")
            overlaps = np.array([region_overlap(p, g, s.image_size, s.name) for p, g in zip(traj, gt)], dtype=np.float64)
            accuracy += run_accuracy(overlaps, traj, burnin)
            failures += len(codes(traj, FAILURE))
            parts += segments(overlaps, traj)
        accuracy /= len(runs)
        failures /= len(runs)
        per_seq[s.name] = {"Accuracy": accuracy, "Robustness": failures}
        acc_sum += accuracy * len(gt)
        fail_sum += failures * len(gt)
        weight_sum += len(gt)
    curve = eao_curve(parts)
    window = curve[low: high + 1]
    scores = {"EAO": float(np.mean(window)) if len(window) else float("nan"),
              "Accuracy": acc_sum / weight_sum if weight_sum else float("nan"),
              "Robustness": fail_sum / weight_sum if weight_sum else float("nan")}
    warnings_ = window_warning(len(curve) - 1, low, high, unit="frames after the init")
    return ProtocolResult(NAME, DESCRIPTION, tracker, scores, per_seq,
                          {"eao": Curve(np.arange(len(curve), dtype=np.float64), curve)}, RepairLog(),
                          {"eao_window": [low, high], "warnings": warnings_})
