"""Shared machinery of the box protocols: all runs of all sequences as one flat batch of frames.

The OTB-family protocols (pytracking's ``otb``/``uav``/``nfs``, the LaSOT MATLAB toolkit, the
TrackingNet devkit) and GOT-10k differ in how they repair results and score one frame, but all
end the same way: per sequence, the fraction of frames passing each threshold, then an average.
A :class:`Batch` concatenates every run of every sequence so that repairs, IoUs and threshold
counts are a few numpy operations over all frames at once — no loop over frames, and only a
loop over runs to fix lengths.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pytracking.analysis.protocols.base import RepairLog, count_curve
from pytracking.evaluation.sequence import Sequence

# (raw run boxes or None when the file is missing, sequence, repairs) -> (boxes of GT length, #real rows)
LengthRule = Callable[[np.ndarray | None, Sequence, RepairLog], tuple[np.ndarray, int]]


@dataclass
class Batch:
    """Every run of every sequence, concatenated frame by frame (``F`` frames, ``R`` runs).

    ``pred``/``gt`` are ``F x 4``; ``offsets[r]`` is the first frame of run ``r`` and
    ``run_seq[r]`` its sequence; ``padded`` marks rows the length rule added.
    """

    sequences: list[Sequence]
    run_seq: np.ndarray
    offsets: np.ndarray
    pred: np.ndarray
    gt: np.ndarray
    visible: np.ndarray
    padded: np.ndarray

    @property
    def n_runs(self) -> int:
        return len(self.run_seq)

    @cached_property
    def run_ids(self) -> np.ndarray:
        """The run index of every frame."""
        return np.repeat(np.arange(self.n_runs), np.diff(self.offsets))

    @cached_property
    def first(self) -> np.ndarray:
        """True on the first frame of every run."""
        mask = np.zeros(len(self.pred), dtype=bool)
        mask[self.offsets[:-1][np.diff(self.offsets) > 0]] = True
        return mask

    def run_lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def locate(self, flat: int) -> str:
        """``"<sequence>: run r, frame k"`` (1-based) of a flat frame index, for error messages."""
        run = int(np.searchsorted(self.offsets, flat, side="right") - 1)
        seq = self.sequences[self.run_seq[run]].name
        first_run = int(np.searchsorted(self.run_seq, self.run_seq[run]))
        return f"{seq}: run {run - first_run + 1}, frame {flat - self.offsets[run] + 1}"

    def per_run(self, mask: np.ndarray) -> np.ndarray:
        """How many flagged frames each run has."""
        return np.bincount(self.run_ids[mask], minlength=self.n_runs)

    def log(self, repairs: RepairLog, what: str, mask: np.ndarray) -> None:
        """Record flagged frames per sequence in the repair log."""
        for run, count in enumerate(self.per_run(mask)):
            repairs.add(what, self.sequences[self.run_seq[run]].name, int(count))


def runs_of(predictions: Mapping[str, object], seq: str) -> list[np.ndarray]:
    """The runs of one sequence as ``N x 4`` float arrays; accepts one array or a list of runs."""
    runs = predictions[seq]
    if isinstance(runs, np.ndarray) and runs.ndim == 2:
        runs = [runs]
    return [np.asarray(r, dtype=np.float64).reshape(-1, 4) for r in runs]


def require_all(sequences: Seq[Sequence], predictions: Mapping[str, object], tracker: str) -> None:
    """Raise naming every sequence without results (protocols that have no rule for missing files)."""
    missing = [s.name for s in sequences if s.name not in predictions]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise KeyError(f"tracker {tracker}: no results for {len(missing)} sequence(s): {shown}")


def make_batch(sequences: Seq[Sequence], predictions: Mapping[str, object], rule: LengthRule,
               repairs: RepairLog) -> Batch:
    """Concatenate every run (length-fixed by the protocol's ``rule``) with its ground truth.

    A sequence absent from ``predictions`` gets one run ``rule(None, …)`` (the rule may raise).
    """
    preds, gts, vis, padded, run_seq = [], [], [], [], []
    for index, seq in enumerate(sequences):
        runs = runs_of(predictions, seq.name) if seq.name in predictions else [None]
        visible = np.ones(len(seq.ground_truth), bool) if seq.target_visible is None else seq.target_visible
        for run in runs:
            boxes, real = rule(run, seq, repairs)
            preds.append(boxes)
            gts.append(seq.ground_truth)
            vis.append(visible)
            pad = np.zeros(len(boxes), dtype=bool)
            pad[real:] = True
            padded.append(pad)
            run_seq.append(index)
    lengths = [len(p) for p in preds]

    def cat(parts: list[np.ndarray], shape: tuple[int, ...], dtype: type) -> np.ndarray:
        # column-major, so that the x / y / w / h columns the protocols work on are contiguous
        return np.asfortranarray(np.concatenate(parts).astype(dtype, copy=False)) if parts else np.zeros(shape, dtype)

    return Batch(list(sequences), np.array(run_seq, dtype=int), np.concatenate([[0], np.cumsum(lengths)]).astype(int),
                 cat(preds, (0, 4), np.float64), cat(gts, (0, 4), np.float64), cat(vis, (0,), bool),
                 cat(padded, (0,), bool))


def cut_or_pad(pad_value: float) -> LengthRule:
    """Length rule: cut rows past the GT length, pad short runs with ``pad_value`` boxes."""
    def rule(boxes: np.ndarray | None, seq: Sequence, repairs: RepairLog) -> tuple[np.ndarray, int]:
        n = len(seq.ground_truth)
        if boxes is None:
            raise KeyError(f"no results for sequence {seq.name}")
        repairs.add("extra result rows cut", seq.name, max(0, len(boxes) - n))
        real = min(len(boxes), n)
        if real < n:
            what = "zero boxes (fail)" if pad_value == 0 else "NaN (fail)"
            repairs.add(f"missing result rows padded with {what}", seq.name, n - real)
            boxes = np.concatenate([boxes[:real], np.full((n - real, 4), pad_value)])
        return boxes[:n], real
    return rule


def forward_fill(boxes: np.ndarray, replace: np.ndarray) -> np.ndarray:
    """Replace flagged rows by the nearest earlier unflagged row (the toolkits' ``box[i] = box[i-1]``,
    applied in order), without a loop. Callers never flag the first frame of a run."""
    idx = np.where(replace, 0, np.arange(len(boxes)))
    np.maximum.accumulate(idx, out=idx)
    out = boxes.copy()
    out[replace] = boxes[idx[replace]]
    return out


@dataclass(frozen=True)
class CurveSpec:
    """One curve of a protocol: its name, thresholds and pass rule (``>``, ``>=`` or ``<=``)."""

    name: str
    thresholds: np.ndarray
    rule: str


def sequence_curves(batch: Batch, values: np.ndarray, spec: CurveSpec, denominators: np.ndarray) -> np.ndarray:
    """Per-sequence curve (sequences x thresholds): per run ``#passing / denominator``, then the
    mean over the runs of each sequence. NaN values pass no threshold."""
    counts = count_curve(values, batch.run_ids, batch.n_runs, spec.thresholds, spec.rule)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_run = counts / denominators[:, None]
    n_seq = len(batch.sequences)
    n_runs = np.bincount(batch.run_seq, minlength=n_seq).astype(np.float64)
    per_seq = np.zeros((n_seq, len(spec.thresholds)))
    np.add.at(per_seq, batch.run_seq, per_run)
    with np.errstate(invalid="ignore", divide="ignore"):
        return per_seq / n_runs[:, None]
