"""VOT2018 short-term: the supervised (reset-based) protocol as the legacy evaluation scores it.

This is protocol ``vot2018`` (legacy): the numbers published for VOT2018, as pysot's toolkit
(``toolkit/evaluation/{ar,eao}_benchmark.py``, a readable port of the legacy MATLAB toolkit)
computes them. vot-toolkit's own supervised analysis, which differs, is ``vot2018_toolkit``
(``vot2018_toolkit.py``). Trajectories hold one entry per frame: a region, or a special code
``1`` (init), ``2`` (failure) or ``0`` (skipped). ``run_supervised`` produces them from a tracker.

* Overlap: pysot's C region code (``vot_legacy_region``), bounded by ``(W, H)`` for accuracy and
  ``(W-1, H-1)`` for EAO, as pysot passes them; special frames are NaN.
* Accuracy: frames ``[init, init + 10)`` after every (re)initialisation are excluded (burn-in);
  per frame the overlap is averaged over repetitions (nanmean), then **pooled over all frames
  of all sequences**.
* Robustness: failures (code 2) per run, averaged over repetitions, summed over sequences
  (``Failures``, pysot's "lost number"); ``Robustness`` = failures per 100 frames.
* EAO: every run is cut into fragments from each (re)start to the **next restart point
  inclusive** (failure + 5); failure and skipped frames count as 0. A fragment ending in a
  failure is padded with 0, the last one with NaN (unusable past its length). Fragment weight =
  1/(runs of its sequence) (pysot uses the last sequence's run count for all; the same when
  every sequence has as many runs). EO(L) = weighted mean over usable fragments of
  mean(frag[2..L]) (the init frame skipped); EAO = mean of EO(L) for L in [100, 356].

Floats are float64 throughout (pysot keeps the EO curve in float32: differences below 1e-6).
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass

import numpy as np

from pytracking.analysis.protocols.base import Curve, InvalidResultsError, ProtocolResult, RepairLog
from pytracking.analysis.protocols.vot_legacy_region import legacy_overlap
from pytracking.analysis.protocols.vot_region import FAILURE, INIT, UNKNOWN, Region, is_special, region_overlap
from pytracking.analysis.protocols.vot_run import ImageLoader, TimedTracker, TrackerLike, gt_regions
from pytracking.evaluation.sequence import Sequence

NAME = "vot2018"
DESCRIPTION = ("vot2018 (legacy VOT2018 evaluation as pysot's toolkit reproduces it: C-code polygon overlap, "
               "burn-in 10, pooled accuracy, failures per 100 frames, EAO of restart fragments over lengths 100-356)")
SKIP_INITIALIZE = 5
BURNIN = 10
EAO_LOW, EAO_HIGH = 100, 356


@contextlib.contextmanager
def _quiet_nanmean() -> Iterator[None]:
    """Silence numpy's 'Mean of empty slice': an all-NaN frame or sequence is NaN by design."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@dataclass
class SupervisedRun:
    """One run of ``run_supervised``: per-frame trajectory (regions and codes) and seconds (NaN when skipped)."""

    trajectory: list[Region]
    times: np.ndarray


def run_supervised(tracker_factory: Callable[[], TrackerLike], sequence: Sequence, skip: int = SKIP_INITIALIZE,
                   failure_overlap: float = 0.0, image_loader: ImageLoader | None = None) -> SupervisedRun:
    """Run a tracker with resets: a failure (overlap <= ``failure_overlap``) is written as ``2``,
    the next ``skip - 1`` frames as ``0``, and the tracker is re-initialised ``skip`` frames after it.

    ``tracker_factory`` is called once per run; re-initialisation calls ``initialize`` again.
    """
    runner = TimedTracker(tracker_factory(), sequence, image_loader)
    n = len(runner.regions)
    trajectory: list[Region] = [UNKNOWN] * n
    times = np.full(n, np.nan)
    frame = 0
    while frame < n:
        times[frame] = runner.initialize(frame)
        trajectory[frame] = INIT
        frame += 1
        while frame < n:
            region, times[frame] = runner.track(frame)
            if region_overlap(region, runner.regions[frame], runner.image_size) <= failure_overlap:
                trajectory[frame] = FAILURE
                frame += skip
                break
            trajectory[frame] = region
            frame += 1
    return SupervisedRun(trajectory, times)


def run_overlaps(trajectory: Seq[Region], gt: Seq[Region], bounds: tuple[float, float] | None) -> np.ndarray:
    """Per-frame legacy overlap of a trajectory with the GT (pysot ``vot_overlap_traj``), NaN on
    special frames; ``bounds`` = ``(W, H)`` for accuracy, ``(W-1, H-1)`` for EAO."""
    return np.array([legacy_overlap(r, g, bounds) for r, g in zip(trajectory, gt)], dtype=np.float64)


def codes(trajectory: Seq[Region], code: int) -> np.ndarray:
    """Frame indices holding special ``code``."""
    return np.array([i for i, r in enumerate(trajectory) if is_special(r) and int(r) == code], dtype=int)


def burnin_mask(trajectory: Seq[Region], burnin: int = BURNIN) -> np.ndarray:
    """True on frames ``[init, init + burnin)`` after every initialisation."""
    mask = np.zeros(len(trajectory), dtype=bool)
    for i in codes(trajectory, INIT):
        mask[i: i + burnin] = True
    return mask


def fragments(overlaps: Seq[np.ndarray], failures: Seq[np.ndarray], weights: Seq[float],
              skip: int = SKIP_INITIALIZE) -> tuple[np.ndarray, np.ndarray]:
    """Legacy EAO fragments of many runs: ``(fragments x max_len array, fragment weights)``.

    ``overlaps[k]`` are run k's per-frame overlaps (NaN on special frames), ``failures[k]`` its
    failure frames and ``weights[k]`` the weight of each of its fragments.
    """
    max_len = max((len(o) for o in overlaps), default=0)
    rows, row_weights = [], []
    for o, fails, w in zip(overlaps, failures, weights):
        o = np.nan_to_num(np.asarray(o, dtype=np.float64), nan=0.0)
        points = [0] + [int(f) + skip for f in fails if int(f) + skip <= len(o)]
        for k, start in enumerate(points):
            last = k == len(points) - 1
            piece = o[start:] if last else o[start: points[k + 1] + 1]
            row = np.full(max_len, np.nan if last else 0.0)
            row[: len(piece)] = piece
            rows.append(row)
            row_weights.append(w)
    return np.array(rows).reshape(-1, max_len), np.array(row_weights, dtype=np.float64)


def expected_overlap_curve(frags: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """EO(L) for L = 1..max_len (index L-1): weighted mean over fragments usable at L of
    mean(frag[2..L]); EO(1) = 1 as in the toolkit; NaN where no fragment is usable."""
    max_len = frags.shape[1]
    curve = np.full(max_len, np.nan)
    if max_len == 0:
        return curve
    curve[0] = 1.0
    usable = ~np.isnan(frags[:, 1:])
    cum = np.cumsum(np.nan_to_num(frags[:, 1:]), axis=1)
    means = cum / np.arange(1, max_len)[None, :]
    w = usable * weights[:, None]
    total = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        curve[1:] = np.where(total > 0, (np.where(usable, means, 0) * w).sum(axis=0) / total, np.nan)
    return curve


def eao_score(curve: np.ndarray, low: int = EAO_LOW, high: int = EAO_HIGH) -> float:
    """Mean of EO(L) for lengths ``low..high`` that exist and are not NaN (NaN when none does)."""
    window = curve[low - 1: high]
    window = window[~np.isnan(window)]
    return float(window.mean()) if len(window) else float("nan")


def window_warning(longest: int, low: int, high: int, unit: str = "frames") -> list[str]:
    """A warning when the longest run is shorter than the EAO window ``[low, high]``."""
    if longest >= high:
        return []
    if longest < low:
        return [f"EAO window [{low}, {high}] starts after the longest run ({longest} {unit}): EAO is undefined "
                f"(NaN); pass a window that fits the sequences, e.g. --eao-low 1 --eao-high {max(longest, 1)}"]
    return [f"EAO window [{low}, {high}] reaches past the longest run ({longest} {unit}): only lengths "
            f"{low}..{longest} are averaged; consider --eao-high {longest}"]


def evaluate(sequences: Seq[Sequence], trajectories: Mapping[str, Seq[Seq[Region]]], tracker: str = "tracker",
             low: int = EAO_LOW, high: int = EAO_HIGH, skip: int = SKIP_INITIALIZE,
             burnin: int = BURNIN) -> ProtocolResult:
    """Legacy VOT2018 analysis of stored supervised runs (``trajectories[seq]`` = list of runs).

    Scores: ``EAO``, ``Accuracy`` (pooled), ``Failures`` (total, mean over runs),
    ``Robustness`` (failures per 100 frames). Per sequence: accuracy, failures, robustness.
    """
    repairs = RepairLog()
    all_frame_acc, all_overlaps, all_failures, all_weights = [], [], [], []
    per_seq, total_failures, total_frames, unbounded = {}, 0.0, 0, []
    for s in sequences:
        if s.name not in trajectories:
            raise KeyError(f"tracker {tracker}: no VOT runs for sequence {s.name}")
        gt = gt_regions(s)
        size = s.image_size
        if size is None:
            unbounded.append(s.name)
        acc_bounds = size
        eao_bounds = None if size is None else (size[0] - 1, size[1] - 1)
        runs = list(trajectories[s.name])
        acc_rows, seq_failures = [], []
        for r, traj in enumerate(runs, start=1):
            if len(traj) != len(gt):
                raise InvalidResultsError(f"{s.name}: run {r} has {len(traj)} entries for {len(gt)} frames")
            masked = [UNKNOWN if m else region for region, m in zip(traj, burnin_mask(traj, burnin))]
            acc_rows.append(run_overlaps(masked, gt, acc_bounds))
            fails = codes(traj, FAILURE)
            all_overlaps.append(run_overlaps(traj, gt, eao_bounds))
            all_failures.append(fails)
            all_weights.append(1.0 / len(runs))
            seq_failures.append(len(fails))
        with _quiet_nanmean():
            frame_acc = np.nanmean(np.array(acc_rows), axis=0) if acc_rows else np.full(len(gt), np.nan)
        all_frame_acc.append(frame_acc)
        fails_mean = float(np.mean(seq_failures)) if seq_failures else 0.0
        total_failures += fails_mean
        total_frames += len(gt)
        with _quiet_nanmean():
            per_seq[s.name] = {"Accuracy": float(np.nanmean(frame_acc)), "Failures": fails_mean,
                               "Robustness": 100.0 * fails_mean / len(gt)}
    frags, weights = fragments(all_overlaps, all_failures, all_weights, skip)
    curve = expected_overlap_curve(frags, weights)
    pooled = np.concatenate(all_frame_acc) if all_frame_acc else np.zeros(0)
    with _quiet_nanmean():
        accuracy = float(np.nanmean(pooled)) if len(pooled) else float("nan")
    scores = {"EAO": eao_score(curve, low, high), "Accuracy": accuracy, "Failures": total_failures,
              "Robustness": 100.0 * total_failures / total_frames if total_frames else float("nan")}
    warnings_ = window_warning(len(curve), low, high)
    if unbounded:
        warnings_.append(f"no image size for {len(unbounded)} sequence(s) ({', '.join(unbounded[:5])}): overlaps "
                         f"not bounded to the image; give the frames or the dataset's image size")
    lengths = np.arange(1, len(curve) + 1, dtype=np.float64)
    return ProtocolResult(NAME, DESCRIPTION, tracker, scores, per_seq, {"eao": Curve(lengths, curve)}, repairs,
                          {"eao_window": [low, high], "warnings": warnings_})
