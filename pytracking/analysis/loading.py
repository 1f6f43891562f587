"""Read one method's stored results into the in-memory form the protocols take.

Box protocols need ``{seq: [boxes of run 0, run 1, …]}`` (and times, for GOT-10k speed);
VOT2018 needs ``{seq: [trajectory of each run]}`` and VOT2020 ``{seq: {anchor: trajectory}}``.
Results come from the runner's :class:`RunDir` folders; a results-only method is read straight
from its folder or zip in any toolkit-native layout (``raw_import``), repetitions included.
Whatever is not there is listed in ``missing`` as ``"run_000/<seq>"`` (or
``".../<seq>_<anchor>"``, or the results-only source and sequence) so the report can name it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pytracking.analysis.protocols.vot2020 import anchor_runs
from pytracking.analysis.protocols.vot_trajectory import multistart_file, read_trajectory, supervised_file
from pytracking.analysis.raw_import import (
    LAYOUTS,
    RawResultsError,
    ResultSource,
    detect_layout,
    load_boxes,
    load_multistart,
    load_supervised,
)
from pytracking.evaluation.results import RunDir
from pytracking.evaluation.sequence import Sequence


@dataclass
class MethodResults:
    """One method's results for one protocol kind, plus what was missing.

    ``reference`` marks a baseline whose speed means nothing (static box, GT replay); ``source``
    says where a results-only method came from.
    """

    label: str
    results: dict[str, Any] = field(default_factory=dict)
    times: dict[str, list[np.ndarray]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    reference: bool = False
    source: str = ""

    @property
    def timed(self) -> bool:
        """Whether any result carries a real per-frame time (imported results often carry none)."""
        return any(np.isfinite(t).any() for runs in self.times.values() for t in runs)


def load_method(label: str, runs: list[RunDir], sequences: list[Sequence], kind: str) -> MethodResults:
    """Results of ``runs`` (one RunDir per run) for every sequence, for protocol ``kind``.

    A sequence with any run missing is left out of ``results`` and listed in ``missing``.
    """
    out = MethodResults(label)
    for seq in sequences:
        loaded, missing = [], []
        for run in runs:
            item, lacking = _load_one(run, seq, kind)
            loaded.append(item)
            missing += [f"{run.path.name}/{name}" for name in lacking]
        if missing:
            out.missing += missing
            continue
        if kind == "boxes":
            out.results[seq.name] = [boxes for boxes, _ in loaded]
            out.times[seq.name] = [times for _, times in loaded if times is not None]
        elif kind == "supervised":
            out.results[seq.name] = loaded
        else:
            out.results[seq.name] = loaded[0]  # multistart: one set of anchor runs
    return out


def _load_one(run: RunDir, seq: Sequence, kind: str) -> tuple[Any, list[str]]:
    """One run of one sequence, and the names of the files that are missing."""
    if kind == "boxes":
        if not run.is_finished(seq.name):
            return None, [seq.name]
        return run.read(seq.name), []
    if kind == "supervised":
        path = supervised_file(run.path, seq.name)
        return (read_trajectory(path), []) if path.is_file() else (None, [f"supervised/{seq.name}"])
    anchors, lacking = {}, []
    for anchor, _ in anchor_runs(seq):
        path = multistart_file(run.path, seq.name, anchor)
        if path.is_file():
            anchors[anchor] = read_trajectory(path)
        else:
            lacking.append(f"multistart/{path.stem}")
    return anchors, lacking


def load_results_only(label: str, folder: str | Path, sequences: list[Sequence], kind: str,
                      layout: str = "auto") -> MethodResults:
    """A results-only method from its folder or zip, in ``layout`` (``raw_import.LAYOUTS``)."""
    if layout not in LAYOUTS:
        raise RawResultsError(f"results-only method {label}: unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    source = ResultSource(folder)
    out = MethodResults(label, source=str(source))
    layouts = set()
    names = [seq.name for seq in sequences]
    for seq in sequences:
        if kind == "boxes":
            chosen = detect_layout(source, seq.name, names) if layout == "auto" else layout
            loaded = load_boxes(source, seq, chosen, names)
            if loaded is not None:
                layouts.add(chosen)
                out.results[seq.name], times = loaded
                if times:
                    out.times[seq.name] = times
        elif kind == "supervised":
            loaded = load_supervised(source, seq)
            if loaded is not None:
                out.results[seq.name] = loaded
        else:
            loaded = load_multistart(source, seq)
            if loaded is not None:
                out.results[seq.name] = loaded
        if loaded is None:
            out.missing.append(f"{source}: {seq.name}")
    if layouts:
        out.source += f" ({', '.join(sorted(layouts))} layout)"
    return out
