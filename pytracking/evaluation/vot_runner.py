"""VOT jobs for the runner: the tracker runs under its benchmark's protocol instead of once per sequence.

A dataset whose default analysis protocol reads VOT trajectories (``vot2018``: ``supervised``
resets; ``vot2020``: ``multistart`` anchor runs) gets its jobs executed here: ``run_supervised``
(failure -> re-initialisation 5 frames later) or ``run_multistart`` (every anchor, no resets),
written with ``write_trajectory`` into the run folder where ``pytracking/analyze.py`` reads them:

* ``<run>/supervised/<seq>.txt`` (+ ``<seq>_time.txt``, ``<seq>.json``);
* ``<run>/multistart/<seq>_<anchor:08d>.txt`` per anchor (+ ``<seq>_time.txt`` with one line per
  anchor run, ``<anchor>:<seconds per frame, comma-separated, in run order>``, and ``<seq>.json``).

Every file is written atomically and the JSON sidecar goes last: a sequence is finished only when
its sidecar exists, so an interrupted job is recomputed, and resume and sharding work as for box jobs.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ltr.admin.atomic import atomic_write_text
from pytracking.analysis.protocols import DEFAULT_PROTOCOL, PROTOCOLS
from pytracking.analysis.protocols.vot2018 import run_supervised
from pytracking.analysis.protocols.vot2020 import run_multistart
from pytracking.analysis.protocols.vot_region import FAILURE, is_special
from pytracking.analysis.protocols.vot_trajectory import multistart_file, supervised_file, write_trajectory
from pytracking.evaluation.regions import RleMask
from pytracking.evaluation.results import RunDir
from pytracking.evaluation.sequence import Sequence
from pytracking.tracker.base import BaseTracker

VOT_KINDS = ("supervised", "multistart")


def vot_kind(dataset: str) -> str | None:
    """``supervised`` / ``multistart`` when dataset ``dataset``'s protocol needs the tracker in the loop, else None."""
    protocol = DEFAULT_PROTOCOL.get(dataset)
    kind = PROTOCOLS[protocol].kind if protocol in PROTOCOLS else None
    return kind if kind in VOT_KINDS else None


def sidecar_file(rundir: RunDir, seq: str, kind: str) -> Path:
    """The JSON written last for one VOT job (its presence marks the sequence finished)."""
    return rundir.path / kind / f"{seq}.json"


def times_file(rundir: RunDir, seq: str, kind: str) -> Path:
    return rundir.path / kind / f"{seq}_time.txt"


def is_finished(rundir: RunDir, seq: str, kind: str) -> bool:
    """True when the VOT job of ``seq`` wrote its sidecar (its trajectories were written before it)."""
    return sidecar_file(rundir, seq, kind).is_file()


class SeededTracker:
    """Passes a job's seed (and VOT2020 masks as ``init_mask``) to every ``initialize`` of a shared
    tracker instance, and with
    ``prefer_mask`` reports a tracker's mask rather than its box (VOT2020 scores masks).

    The VOT protocol drivers re-initialise the tracker on resets and anchors; the instance is
    reused so network weights load once, and its ``initialize`` resets its state as required.
    """

    def __init__(self, tracker: BaseTracker, seed: int, prefer_mask: bool = False) -> None:
        self.tracker = tracker
        self.seed = seed
        self.prefer_mask = prefer_mask
        self.needs_ground_truth = getattr(tracker, "needs_ground_truth", False)

    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> Any:
        """Initialise with the seed; a VOT2020 ``RleMask`` initial region also comes as ``init_mask``
        (full-frame uint8), the form segmentation trackers take."""
        extra: dict[str, Any] = {"seed": self.seed}
        region = info.get("init_region")
        if isinstance(region, RleMask):
            extra["init_mask"] = region.to_mask(image.shape[1], image.shape[0])
        return self.tracker.initialize(image, {**info, **extra})

    def track(self, image: np.ndarray, info: dict[str, Any]) -> Any:
        out = self.tracker.track(image, info)
        if self.prefer_mask and isinstance(out, dict) and out.get("segmentation") is not None:
            return np.asarray(out["segmentation"]).astype(bool)
        return out


def _times_text(times: np.ndarray) -> str:
    return ",".join("nan" if not np.isfinite(t) else f"{t:.6f}" for t in times)


def run_vot_job(tracker: BaseTracker, seq: Sequence, rundir: RunDir, kind: str, seed: int,
                meta: dict[str, Any]) -> None:
    """Run ``tracker`` on ``seq`` under protocol ``kind`` and write trajectories, times and sidecar."""
    factory = lambda: SeededTracker(tracker, seed, prefer_mask=kind == "multistart")  # noqa: E731
    if kind == "supervised":
        run = run_supervised(factory, seq)
        write_trajectory(supervised_file(rundir.path, seq.name), run.trajectory)
        all_times = [run.times]
        atomic_write_text(times_file(rundir, seq.name, kind), "".join(f"{t:.6f}\n" for t in run.times))
        extra: dict[str, Any] = {"failures": sum(1 for r in run.trajectory if is_special(r) and r == FAILURE)}
    elif kind == "multistart":
        runs = run_multistart(factory, seq)
        for anchor, anchor_run in runs.items():
            write_trajectory(multistart_file(rundir.path, seq.name, anchor), anchor_run.trajectory)
        all_times = [r.times for r in runs.values()]
        atomic_write_text(times_file(rundir, seq.name, kind),
                          "".join(f"{a}:{_times_text(r.times)}\n" for a, r in runs.items()))
        extra = {"anchors": sorted(runs)}
    else:
        raise ValueError(f"unknown VOT protocol kind {kind!r}; expected one of {VOT_KINDS}")
    measured = np.concatenate(all_times)
    measured = measured[np.isfinite(measured)]
    total = float(measured.sum())
    sidecar = {**meta, **extra, "protocol_kind": kind, "fps": len(measured) / total if total > 0 else None}
    atomic_write_text(sidecar_file(rundir, seq.name, kind), json.dumps(sidecar, indent=2, sort_keys=True))
