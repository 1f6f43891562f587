"""Score several methods on one benchmark under one protocol, handling missing and refused results.

:func:`analyze` takes results already in memory (``{method: {sequence: results}}``), so tests
and other tools can use it directly; the CLI (``pytracking/analyze.py``) loads them from disk
first (``loading.py``) and then calls :func:`analyze_methods`.
"""
from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence as Seq
from typing import Any

import numpy as np

from pytracking.analysis.loading import MethodResults
from pytracking.analysis.protocols import get_protocol
from pytracking.analysis.protocols.base import InvalidResultsError
from pytracking.analysis.report import Report
from pytracking.evaluation.sequence import Sequence


class MissingResultsError(RuntimeError):
    """Results are missing and missing results were not allowed; the message names them."""


def analyze_methods(protocol: str, sequences: Seq[Sequence], methods: Seq[MethodResults], experiment: str = "",
                    allow_missing: bool = False, **options: Any) -> Report:
    """Score every method on ``sequences``.

    Missing results raise :class:`MissingResultsError` naming them, unless ``allow_missing``:
    then sequences missing for *any* method are left out for all (so the numbers stay
    comparable) and listed in the report. A method whose results the protocol refuses (e.g. NaN
    boxes under pytracking's rules) is reported as refused; the others are still scored.
    """
    info = get_protocol(protocol)
    sequences = list(sequences)
    missing = {m.label: m.missing for m in methods if m.missing}
    if missing and not allow_missing:
        lines = [f"{label}: {', '.join(items[:5])}{' …' if len(items) > 5 else ''} ({len(items)} missing)"
                 for label, items in missing.items()]
        raise MissingResultsError("results are missing (use --allow-missing to score the rest):\n  "
                                  + "\n  ".join(lines))
    dropped = [s.name for s in sequences if any(s.name not in m.results for m in methods)]
    kept = [s for s in sequences if s.name not in dropped]
    report = Report(experiment, info, [], sequences, missing, {}, dropped)
    if not kept:
        return report
    for method in methods:
        try:
            result = info.evaluate(kept, method.results, tracker=method.label, times=method.times or None, **options)
        except (InvalidResultsError, KeyError) as err:
            report.refused[method.label] = str(err).strip("'\"")
            continue
        _honest_speed(result, method, report)
        report.results.append(result)
        for warning in result.extra.get("warnings", []):
            if warning not in report.notes:
                report.notes.append(warning)
    return report


def _honest_speed(result: Any, method: MethodResults, report: Report) -> None:
    """No FPS for results without timing, nor for reference trackers (their speed means nothing)."""
    if "FPS" not in result.scores:
        return
    why = ("reference tracker: no real work, speed not meaningful" if method.reference else
           "results carry no timing" if not method.timed else "")
    if not why:
        return
    result.scores["FPS"] = float("nan")
    for metrics in result.per_sequence.values():
        metrics["FPS"] = float("nan")
    result.extra["fps_note"] = why
    report.notes.append(f"FPS of {method.label}: not shown ({why})")


def analyze_attributes(protocol: str, sequences: Seq[Sequence], methods: Seq[MethodResults], experiment: str = "",
                       **options: Any) -> dict[str, Report]:
    """Per attribute tag (sorted): every method scored on the sequences having it, as
    :func:`analyze_methods` with ``allow_missing`` (what the main report dropped stays dropped)."""
    attributes = sorted({a for s in sequences for a in s.attributes})
    return {attribute: analyze_methods(protocol, [s for s in sequences if attribute in s.attributes], methods,
                                       experiment, allow_missing=True, **options)
            for attribute in attributes}


def analyze(protocol: str, sequences: Seq[Sequence], results: Mapping[str, Mapping[str, Any]],
            times: Mapping[str, Mapping[str, Any]] | None = None, experiment: str = "arrays",
            allow_missing: bool = False, **options: Any) -> Report:
    """Score in-memory results: ``results[method][sequence]`` is what the protocol takes
    (boxes or a list of runs; VOT trajectories), ``times[method][sequence]`` optional."""
    methods = []
    for label, per_seq in results.items():
        method = MethodResults(label, dict(per_seq), dict((times or {}).get(label, {})))
        method.times = {seq: [np.asarray(t, dtype=np.float64) for t in (ts if isinstance(ts, list) else [ts])]
                        for seq, ts in method.times.items()}
        method.missing = [s.name for s in sequences if s.name not in per_seq]
        methods.append(method)
    return analyze_methods(protocol, sequences, methods, experiment, allow_missing, **options)
