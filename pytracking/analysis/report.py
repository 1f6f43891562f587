"""Tables, text report and files of one analysis: every method under one named protocol.

* :func:`summary_table`: one row per method, the protocol's scores, best first.
* :func:`sequence_table`: one row per sequence, one column per method (one metric).
* :func:`attribute_table`: per attribute, the mean over the sequences having it.
* :func:`format_report`: the text printed by the CLI — protocol name and rules, tables, what
  was repaired or refused, what is missing.
* :func:`write_report`: ``report.json`` (every number, written atomically), CSV tables, plots.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ltr.admin.atomic import atomic_write_text
from pytracking.analysis.plots import plot_curve
from pytracking.analysis.protocols import ProtocolInfo
from pytracking.analysis.protocols.base import ProtocolResult
from pytracking.evaluation.sequence import Sequence


@dataclass
class Report:
    """The outcome of analysing one experiment under one protocol."""

    experiment: str
    protocol: ProtocolInfo
    results: list[ProtocolResult]
    sequences: list[Sequence]
    missing: dict[str, list[str]] = field(default_factory=dict)   # method -> missing result files
    refused: dict[str, str] = field(default_factory=dict)         # method -> why the protocol refused it
    dropped_sequences: list[str] = field(default_factory=list)    # left out for every method (--allow-missing)
    left_out: dict[str, str] = field(default_factory=dict)        # sequence -> why it is not in the dataset
    notes: list[str] = field(default_factory=list)                # window warnings, FPS notes, sources

    @property
    def sequence_metric(self) -> str:
        """The per-sequence metric of the sequence and attribute tables: the main score when the
        protocol has it per sequence (VOT2018's EAO is not; its accuracy is used instead)."""
        keys = next((list(m) for r in self.results for m in r.per_sequence.values()), [])
        return self.protocol.main_score if self.protocol.main_score in keys or not keys else keys[0]

    @property
    def protocol_name(self) -> str:
        """The protocol as scored (e.g. ``uav+exclude_invalid``), or the registered name."""
        return self.results[0].protocol if self.results else self.protocol.name


def summary_table(results: Seq[ProtocolResult], main_score: str) -> pd.DataFrame:
    """Methods x scores, sorted by ``main_score`` (best first)."""
    table = pd.DataFrame({r.tracker: r.scores for r in results}).T
    if table.empty:
        return table
    table.index.name = "tracker"
    return table.sort_values(main_score, ascending=False, kind="stable")


def sequence_table(results: Seq[ProtocolResult], metric: str) -> pd.DataFrame:
    """Sequences x methods for one per-sequence metric."""
    table = pd.DataFrame({r.tracker: {s: m.get(metric, np.nan) for s, m in r.per_sequence.items()} for r in results})
    table.index.name = "sequence"
    return table


def attribute_table(results: Seq[ProtocolResult], sequences: Seq[Sequence], metric: str) -> pd.DataFrame:
    """Attributes x methods: the mean of ``metric`` over the sequences having each attribute.

    A ``sequences`` column says how many sequences each row averages.
    """
    per_seq = sequence_table(results, metric)
    rows = {}
    attributes = sorted({a for s in sequences for a in s.attributes})
    for attribute in attributes:
        names = [s.name for s in sequences if attribute in s.attributes and s.name in per_seq.index]
        if names:
            rows[attribute] = {"sequences": len(names), **per_seq.loc[names].mean(axis=0).to_dict()}
    table = pd.DataFrame(rows).T
    if not table.empty:
        table["sequences"] = table["sequences"].astype(int)
        table.index.name = "attribute"
    return table


def format_report(report: Report) -> str:
    """The text report: protocol, summary table, attribute table, repairs, refusals, missing results."""
    info = report.protocol
    lines = [f"Experiment: {report.experiment}", f"Protocol: {report.protocol_name} — {info.description}",
             f"Sequences: {len(report.sequences) - len(report.dropped_sequences)}"]
    if report.results:
        lines += ["", summary_table(report.results, info.main_score).to_string(float_format=_fmt, na_rep="-")]
        attributes = attribute_table(report.results, report.sequences, report.sequence_metric)
        if not attributes.empty:
            lines += ["", f"{report.sequence_metric} per attribute (mean over the sequences having it):",
                      attributes.to_string(float_format=_fmt)]
    for result in report.results:
        if result.repairs:
            lines += ["", f"Repaired or flagged results of {result.tracker} ({report.protocol_name} rules):"]
            lines += [f"  {line}" for line in result.repairs.lines()]
    for method, why in report.refused.items():
        lines += ["", f"REFUSED {method}: {why}"]
    for method, items in report.missing.items():
        if items:
            shown = ", ".join(items[:8]) + (f" … and {len(items) - 8} more" if len(items) > 8 else "")
            lines += ["", f"MISSING results of {method} ({len(items)}): {shown}"]
    if report.dropped_sequences:
        lines += ["", f"Left out for every method (results missing): {', '.join(report.dropped_sequences)}"]
    if report.left_out:
        lines += ["", f"Left out ({len(report.left_out)} sequences not scored):"]
        lines += [f"  {name}: {why}" for name, why in report.left_out.items()]
    if report.notes:
        lines += ["", "Notes:"] + [f"  {note}" for note in report.notes]
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 2 else f"{value:.2f}"


def report_json(report: Report) -> dict[str, Any]:
    """Every number of the report as plain JSON data (NaN as null)."""
    return {
        "experiment": report.experiment,
        "protocol": report.protocol_name,
        "description": report.protocol.description,
        "main_score": report.protocol.main_score,
        "sequences": [s.name for s in report.sequences if s.name not in report.dropped_sequences],
        "results": [r.to_json() for r in report.results],
        "sequence_metric": report.sequence_metric,
        "attributes": attribute_table(report.results, report.sequences, report.sequence_metric)
        .to_dict(orient="index") if report.results else {},
        "missing": report.missing,
        "refused": report.refused,
        "dropped_sequences": report.dropped_sequences,
        "left_out": report.left_out,
        "notes": report.notes,
    }


def write_report(report: Report, out_dir: Path, plots: bool = True) -> list[Path]:
    """Write ``report.json``, ``report.txt``, the CSV tables and the plots into ``out_dir``."""
    out_dir = Path(out_dir)
    written = [out_dir / "report.json", out_dir / "report.txt"]
    atomic_write_text(written[0], json.dumps(_clean(report_json(report)), indent=2, allow_nan=False))
    atomic_write_text(written[1], format_report(report) + "\n")
    metric = report.sequence_metric
    tables = {"summary.csv": summary_table(report.results, report.protocol.main_score) if report.results else None,
              "per_sequence.csv": sequence_table(report.results, metric) if report.results else None,
              "attributes.csv": attribute_table(report.results, report.sequences, metric) if report.results else None}
    for name, table in tables.items():
        if table is not None and not table.empty:
            atomic_write_text(out_dir / name, table.to_csv())
            written.append(out_dir / name)
    if plots and report.results:
        for curve in report.results[0].curves:
            written += plot_curve(report.results, curve, out_dir / curve)
    return written


def write_attribute_plots(reports: dict[str, Report], out_dir: Path) -> list[Path]:
    """Every curve of every attribute's report into ``out_dir/<attribute>/<curve>.png|pdf``, the
    attribute and its sequence count in each title; returns the files."""
    written: list[Path] = []
    for attribute, report in reports.items():
        folder = re.sub(r"[^A-Za-z0-9_.-]", "_", attribute).strip(".") or "_"
        count = len([s for s in report.sequences if s.name not in report.dropped_sequences])
        for curve in report.results[0].curves if report.results else ():
            written += plot_curve(report.results, curve, Path(out_dir) / folder / curve,
                                  subset=f"attribute {attribute} ({count} sequences)")
    return written


def _clean(value: Any) -> Any:
    """NaN/inf -> None and numpy scalars -> Python numbers, recursively, for strict JSON."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
