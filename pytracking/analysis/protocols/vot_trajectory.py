"""VOT trajectories on disk, beside the box results of the same run.

Layout inside a run folder (``RunDir.path``), following the vot-toolkit file names:

* supervised (VOT2018): ``supervised/<seq>.txt``, one line per frame;
* multistart (VOT2020): ``multistart/<seq>_<anchor:08d>.txt``, one line per frame of the anchor
  run in run order (the first line is ``1``).

A line is a special code (``1`` init, ``2`` failure, ``0`` skipped), ``x,y,w,h``, a polygon,
or an ``m<x0>,<y0>,<w>,<h>,<runs…>`` mask. Files are written atomically.
"""
from __future__ import annotations

from collections.abc import Sequence as Seq
from pathlib import Path

import numpy as np

from ltr.admin.atomic import atomic_write_text
from pytracking.analysis.protocols.vot_region import Mask, Region, as_region, is_special
from pytracking.evaluation.regions import parse_region


def supervised_file(run_path: Path, seq: str) -> Path:
    return Path(run_path) / "supervised" / f"{seq}.txt"


def multistart_file(run_path: Path, seq: str, anchor: int) -> Path:
    return Path(run_path) / "multistart" / f"{seq}_{anchor:08d}.txt"


def format_region(region: Region) -> str:
    """One trajectory line: ``%d`` specials, ``%.4f`` comma-separated shapes, ``m…`` RLE masks."""
    region = as_region(region)
    if is_special(region):
        return str(int(region))
    if isinstance(region, Mask):
        flat = region.pixels.ravel().astype(np.int8)
        edges = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [len(flat)]])
        runs = ([0] if len(flat) and flat[0] else []) + np.diff(edges).tolist()
        height, width = region.pixels.shape
        return "m" + ",".join(str(int(v)) for v in [region.x0, region.y0, width, height, *runs])
    return ",".join(f"{v:.4f}" for v in np.asarray(region, dtype=np.float64))


def write_trajectory(path: Path, trajectory: Seq[Region]) -> None:
    """Write a trajectory atomically (one region or code per line)."""
    atomic_write_text(path, "".join(format_region(r) + "\n" for r in trajectory))


def read_trajectory(path: Path) -> list[Region]:
    """Read a trajectory; a malformed line raises an error naming ``file:line``."""
    path = Path(path)
    return parse_trajectory(path.read_text(encoding="utf-8"), str(path))


def parse_trajectory(text: str, source: str) -> list[Region]:
    """:func:`read_trajectory` on text already read; ``source`` names it in errors."""
    return [as_region(parse_region(line, source, n)) for n, line in enumerate(text.splitlines(), start=1)
            if line.strip()]
