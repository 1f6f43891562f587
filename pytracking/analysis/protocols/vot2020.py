"""VOT2020 short-term: the anchor-based multi-start protocol of vot-toolkit (metrics.md §6.4).

``run_multistart`` runs a tracker from every anchor (``Sequence.extra["anchors"]``, one value
per frame: > 0 runs forward to the end, < 0 backward to frame 0) without resets; each
trajectory starts with the special code ``1``. ``evaluate`` analyses stored runs as
``vot/analysis/multistart.py`` does:

* Overlaps against the GT (masks for VOT2020) bounded to the image; the init entry is a
  special region and scores 0 — it is counted, which pulls accuracy down slightly.
* Failure: the first frame of a streak of ``grace = 10`` consecutive frames with overlap <=
  0.1 on a non-empty GT (an empty GT frame resets the streak); ``progress`` = that frame, or the
  run length when no such streak exists.
* Per sequence: accuracy = Σ overlaps[:progress] / Σ progress, robustness = Σ progress / Σ len.
  Over sequences: accuracy weighted by Σ progress, robustness by the sequence length.
* EAO: overlaps after the failure set to 0. Per sequence, ``phi[j]`` = mean over runs of
  mean(o[1..j]) for j < len, and for *failed* runs shorter than j ``Σ o[1..len-1] / (j - 1)``
  (the toolkit's j-1 divisor); successful shorter runs drop out. Sequences are combined with
  weights = active runs. The curve has ``high`` points (index 0..high-1) and
  EAO = mean(curve[low : high + 1]), i.e. indices 115..754 for the [115, 755] window.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass

import numpy as np

from pytracking.analysis.protocols.base import Curve, InvalidResultsError, ProtocolResult, RepairLog
from pytracking.analysis.protocols.vot_region import INIT, Region, is_empty, region_overlap
from pytracking.analysis.protocols.vot_run import ImageLoader, TimedTracker, TrackerLike, gt_regions
from pytracking.evaluation.sequence import Sequence

NAME = "vot2020"
DESCRIPTION = ("vot2020 (vot-toolkit multistart: runs from anchors, failure = 10 frames with overlap <= 0.1, "
               "weighted AR, EAO with the j-1 divisor over [115, 755])")
GRACE = 10
THRESHOLD = 0.1
EAO_LOW, EAO_HIGH = 115, 755


def anchor_runs(sequence: Sequence) -> list[tuple[int, bool]]:
    """``(anchor frame, reverse)`` for every anchor: forward anchors first, then backward ones."""
    values = np.asarray(sequence.extra.get("anchors", []), dtype=np.float64)
    if not (values != 0).any():
        raise InvalidResultsError(f"{sequence.name}: sequence has no anchors (anchor.value)")
    forward = [(int(i), False) for i in np.flatnonzero(values > 0)]
    backward = [(int(i), True) for i in np.flatnonzero(values < 0)]
    return forward + backward


def run_frames(anchor: int, reverse: bool, length: int) -> list[int]:
    """Frames of one anchor run in the order the tracker sees them."""
    return list(range(anchor, -1, -1)) if reverse else list(range(anchor, length))


@dataclass
class MultistartRun:
    """One anchor run: trajectory (``1`` then regions) and per-frame seconds, in run order."""

    anchor: int
    reverse: bool
    trajectory: list[Region]
    times: np.ndarray


def run_multistart(tracker_factory: Callable[[], TrackerLike], sequence: Sequence,
                   image_loader: ImageLoader | None = None) -> dict[int, MultistartRun]:
    """Run a fresh tracker from every anchor to the end (or start) of the sequence, no resets."""
    out = {}
    for anchor, reverse in anchor_runs(sequence):
        runner = TimedTracker(tracker_factory(), sequence, image_loader)
        frames = run_frames(anchor, reverse, len(runner.regions))
        times = np.full(len(frames), np.nan)
        times[0] = runner.initialize(frames[0])
        trajectory: list[Region] = [INIT]
        for k, frame in enumerate(frames[1:], start=1):
            region, times[k] = runner.track(frame)
            trajectory.append(region)
        out[anchor] = MultistartRun(anchor, reverse, trajectory, times)
    return out


def failure_progress(overlaps: np.ndarray, gt_empty: np.ndarray, grace: int = GRACE,
                     threshold: float = THRESHOLD) -> int:
    """First frame of the first run of ``grace`` low-overlap frames on non-empty GT, else the length."""
    low = (overlaps <= threshold) & ~gt_empty
    if grace <= 0 or len(low) < grace:
        return len(overlaps)
    window = np.convolve(low.astype(np.int64), np.ones(grace, dtype=np.int64), mode="valid")
    hits = np.flatnonzero(window == grace)
    return int(hits[0]) if len(hits) else len(overlaps)


def eao_partial(runs: Seq[np.ndarray], success: Seq[bool], curve_length: int) -> tuple[np.ndarray, np.ndarray]:
    """vot-toolkit ``compute_eao_partial``: per-sequence ``phi`` curve and its active-run counts."""
    phi = np.zeros(curve_length)
    active = np.zeros(curve_length)
    j = np.arange(curve_length)
    for o, ok in zip(runs, success):
        o = np.asarray(o, dtype=np.float64)
        cum = np.concatenate([[0.0], np.cumsum(o[1:])])  # cum[k] = sum(o[1:k+1])
        inside = (j >= 1) & (j < len(o))
        phi[inside] += cum[j[inside]] / j[inside]
        active[inside] += 1
        if not ok:
            after = (j >= 1) & (j >= len(o))
            with np.errstate(invalid="ignore", divide="ignore"):
                phi[after] += cum[len(o) - 1] / (j[after] - 1)
            active[after] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(active > 0, phi / np.where(active > 0, active, 1), 0.0), active


def evaluate(sequences: Seq[Sequence], trajectories: Mapping[str, Mapping[int, Seq[Region]]],
             tracker: str = "tracker", low: int = EAO_LOW, high: int = EAO_HIGH, grace: int = GRACE,
             threshold: float = THRESHOLD) -> ProtocolResult:
    """vot-toolkit multistart analysis; ``trajectories[seq][anchor]`` = that anchor's trajectory.

    Scores: ``EAO``, ``Accuracy``, ``Robustness``; the same per sequence (EAO from its own curve).
    """
    repairs = RepairLog()
    per_seq = {}
    acc_num = acc_den = rob_num = rob_den = 0.0
    curve_num, curve_den = np.zeros(high), np.zeros(high)
    longest = 0
    for s in sequences:
        if s.name not in trajectories:
            raise KeyError(f"tracker {tracker}: no VOT runs for sequence {s.name}")
        gt = gt_regions(s)
        empty = np.array([is_empty(g) for g in gt])
        seq_runs, seq_success = [], []
        acc_sum = progress_sum = length_sum = 0.0
        for anchor, reverse in anchor_runs(s):
            if anchor not in trajectories[s.name]:
                raise KeyError(f"tracker {tracker}: {s.name}: no run from anchor {anchor}")
            frames = run_frames(anchor, reverse, len(gt))
            traj = trajectories[s.name][anchor]
            if len(traj) != len(frames):
                raise InvalidResultsError(f"{s.name}: anchor {anchor} run has {len(traj)} entries for "
                                          f"{len(frames)} frames")
            overlaps = np.array([region_overlap(r, gt[f], s.image_size, s.name) for r, f in zip(traj, frames)])
            progress = failure_progress(overlaps, empty[frames], grace, threshold)
            acc_sum += overlaps[:progress].sum()
            progress_sum += progress
            length_sum += len(frames)
            longest = max(longest, len(frames))
            failed = overlaps.copy()
            failed[progress:] = 0.0
            seq_runs.append(failed)
            seq_success.append(progress >= len(overlaps))
        accuracy = acc_sum / progress_sum if progress_sum > 0 else 0.0
        robustness = progress_sum / length_sum
        phi, active = eao_partial(seq_runs, seq_success, high)
        curve_num += phi * active
        curve_den += active
        acc_num += accuracy * progress_sum
        acc_den += progress_sum
        rob_num += robustness * len(gt)
        rob_den += len(gt)
        per_seq[s.name] = {"EAO": float(np.mean(phi[low: high + 1])), "Accuracy": accuracy, "Robustness": robustness}
    curve = np.where(curve_den > 0, curve_num / np.where(curve_den > 0, curve_den, 1), 0.0)
    scores = {"EAO": float(np.mean(curve[low: high + 1])),
              "Accuracy": acc_num / acc_den if acc_den else float("nan"),
              "Robustness": rob_num / rob_den if rob_den else float("nan")}
    warnings_ = []
    if longest < high:
        warnings_.append(f"EAO window [{low}, {high}] reaches past the longest anchor run ({longest} frames): "
                         f"curve points no run reaches count as 0 (vot-toolkit does the same); "
                         f"consider --eao-low/--eao-high within the sequence lengths")
    return ProtocolResult(NAME, DESCRIPTION, tracker, scores, per_seq,
                          {"eao": Curve(np.arange(high, dtype=np.float64), curve)}, repairs,
                          {"eao_window": [low, high], "warnings": warnings_})
