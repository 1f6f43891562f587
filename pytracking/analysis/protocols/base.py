"""What every protocol returns, the log of repaired results, and vectorised curve counting.

A protocol turns ground truth plus one tracker's raw results into a :class:`ProtocolResult`:
overall scores as the official toolkit reports them, per-sequence scores, curves, and a
:class:`RepairLog` saying which bad boxes were repaired the way that toolkit repairs them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class InvalidResultsError(ValueError):
    """Results that the protocol's official toolkit refuses (e.g. NaN boxes under pytracking)."""


@dataclass
class Curve:
    """A score curve: ``values[i]`` is the overall value at ``thresholds[i]`` (fractions in [0, 1]).

    ``per_sequence`` (sequences x thresholds, same order as ``sequences``) feeds attribute tables.
    """

    thresholds: np.ndarray
    values: np.ndarray
    per_sequence: np.ndarray | None = None
    sequences: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"thresholds": np.asarray(self.thresholds).tolist(), "values": np.asarray(self.values).tolist()}


class RepairLog:
    """Counts of repaired or refused results, by kind and sequence, for the report.

    ``add("zero-size boxes carried over", "Basketball", 3)`` reads back as
    ``"3 zero-size boxes carried over in 1 sequence"``.
    """

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, int]] = {}

    def add(self, what: str, sequence: str, count: int = 1) -> None:
        if count > 0:
            per_seq = self._counts.setdefault(what, {})
            per_seq[sequence] = per_seq.get(sequence, 0) + int(count)

    def extend(self, other: RepairLog) -> None:
        for what, per_seq in other._counts.items():
            for seq, count in per_seq.items():
                self.add(what, seq, count)

    def count(self, what: str) -> int:
        return sum(self._counts.get(what, {}).values())

    def lines(self) -> list[str]:
        out = []
        for what, per_seq in sorted(self._counts.items()):
            n = len(per_seq)
            out.append(f"{sum(per_seq.values())} {what} in {n} sequence{'s' if n != 1 else ''}")
        return out

    def to_json(self) -> dict[str, dict[str, int]]:
        return {what: dict(sorted(per_seq.items())) for what, per_seq in sorted(self._counts.items())}

    def __bool__(self) -> bool:
        return bool(self._counts)


@dataclass
class ProtocolResult:
    """One tracker under one protocol.

    ``scores`` holds the overall numbers in the units the toolkit reports (e.g. AUC ×100 for
    pytracking, AO as a fraction for GOT-10k); ``per_sequence[seq][metric]`` uses the same units;
    ``curves`` maps ``success`` / ``precision`` / ``norm_precision`` (or ``eao``) to a
    :class:`Curve`; ``extra`` keeps protocol-specific numbers (e.g. EAO curves' support).
    """

    protocol: str
    description: str
    tracker: str
    scores: dict[str, float]
    per_sequence: dict[str, dict[str, float]]
    curves: dict[str, Curve] = field(default_factory=dict)
    repairs: RepairLog = field(default_factory=RepairLog)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.scores = {k: float(v) for k, v in self.scores.items()}
        self.per_sequence = {s: {k: float(v) for k, v in m.items()} for s, m in self.per_sequence.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "description": self.description,
            "tracker": self.tracker,
            "scores": {k: _num(v) for k, v in self.scores.items()},
            "per_sequence": {s: {k: _num(v) for k, v in m.items()} for s, m in self.per_sequence.items()},
            "curves": {k: c.to_json() for k, c in self.curves.items()},
            "repairs": self.repairs.to_json(),
            "repair_summary": self.repairs.lines(),
            "extra": self.extra,
        }


def _num(value: float) -> float | None:
    """JSON has no NaN: NaN becomes null, everything else a plain float."""
    value = float(value)
    return None if np.isnan(value) else value


def count_curve(values: np.ndarray, seq_ids: np.ndarray, n_seq: int, thresholds: np.ndarray, rule: str) -> np.ndarray:
    """Per-sequence counts of frames passing each threshold, without a loop over frames.

    ``rule`` is ``">"`` (overlap > t), ``">="`` (overlap >= t) or ``"<="`` (error <= t). NaN values
    pass no threshold, as a NaN comparison is False in every toolkit. Thresholds must be sorted.
    Returns an ``n_seq x len(thresholds)`` int array.

    Each frame's number of passed thresholds is summed from the comparisons themselves (exact,
    and much faster than a binary search for these few thresholds); a frame passing ``k`` of
    them passes the ``k`` lowest (``>``, ``>=``) or the ``k`` highest (``<=``).
    """
    compare = {">": np.greater, ">=": np.greater_equal, "<=": np.less_equal}.get(rule)
    if compare is None:
        raise ValueError(f"unknown threshold rule {rule!r}")
    thresholds = np.asarray(thresholds, dtype=np.float64)
    n_thr = len(thresholds)
    values = np.asarray(values, dtype=np.float64)
    passed = np.zeros(len(values), dtype=np.uint8 if n_thr < 256 else np.int64)
    with np.errstate(invalid="ignore"):
        for t in thresholds:
            passed += compare(values, t)
    hist = np.bincount(seq_ids * (n_thr + 1) + passed, minlength=n_seq * (n_thr + 1)).reshape(n_seq, n_thr + 1)
    at_least = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]  # at_least[:, k] = #frames passing >= k thresholds
    if rule == "<=":
        return at_least[:, 1:][:, ::-1]  # threshold j (from the bottom) is passed by frames with k >= n - j
    return at_least[:, 1:]
