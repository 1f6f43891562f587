"""Results-only methods in the layouts the official toolkits write, from a folder or a zip.

``ResultsOnlyEntry.folder`` may be a folder or a ``.zip``; ``layout`` says how it is organised
(``auto`` detects it per sequence). Layouts (``specs/metrics.md`` §2.2, §2.4, §6.5, §7):

* ``plain`` — ``<seq>.txt`` boxes, any delimiter (pytracking's tab-separated ints, OTB's names
  with a lower-case first letter, got10k/pysot target suffixes; see ``raw_results``), one run;
  ``<seq>_time.txt`` (pytracking) gives per-frame seconds when present.
* ``got10k`` — ``<seq>/<seq>_001.txt``, ``_002`` … one file per repetition, and
  ``<seq>/<seq>_time.txt`` (rows = frames, one column per repetition) — the GOT-10k toolkit's and
  test server's layout, and what this project's packaging writes.
* ``vot`` — ``[baseline/]<seq>/<seq>_001.txt`` … supervised runs with ``1``/``2``/``0`` codes
  (legacy toolkit, got10k ``ExperimentVOT``, vot-toolkit), or ``<seq>_<anchor>.txt`` multistart
  runs (vot-toolkit; the anchor is the 0-based frame, usually 8 digits). Text trajectories only:
  vot-toolkit's binary ``.bin`` files must be converted first.

A zip is read in place, never extracted: every member name is checked (no absolute paths, no
``..``, no backslashes or drive letters), members are bounded in number and size (and read with
a limit, so a lying header cannot inflate them), and one top folder wrapping everything is
looked through. Times: only files that carry timing give a method a speed; none is invented.
"""
from __future__ import annotations

import re
import zipfile
from collections.abc import Collection
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from pytracking.analysis.protocols.vot_trajectory import parse_trajectory
from pytracking.evaluation.annotations import parse_numbers
from pytracking.evaluation.raw_results import candidate_names
from pytracking.evaluation.results import ResultsFormatError, parse_boxes
from pytracking.evaluation.sequence import Sequence

LAYOUTS = ("auto", "plain", "got10k", "vot")
MAX_MEMBERS = 200_000
MAX_MEMBER_BYTES = 64 << 20
MAX_TOTAL_BYTES = 4 << 30


class RawResultsError(ValueError):
    """A results folder or zip that cannot be read safely or does not match its layout."""


class ResultSource:
    """Read-only text files of a results folder or zip, by relative POSIX path."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, zipfile.ZipInfo] = {}
        self._prefix = ""
        if self.path.is_file() and zipfile.is_zipfile(self.path):
            self._open_zip()
        elif not self.path.is_dir():
            raise RawResultsError(f"{self.path}: no such results folder or zip")

    def _open_zip(self) -> None:
        archive = zipfile.ZipFile(self.path)
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise RawResultsError(f"{self.path}: {len(infos)} members, more than the {MAX_MEMBERS} allowed")
        total = 0
        for info in infos:
            _check_member_name(self.path, info.filename)
            if info.file_size > MAX_MEMBER_BYTES:
                raise RawResultsError(f"{self.path}: member {info.filename} is {info.file_size} bytes uncompressed, "
                                      f"more than the {MAX_MEMBER_BYTES} allowed")
            total += info.file_size
            self._members[info.filename] = info
        if total > MAX_TOTAL_BYTES:
            raise RawResultsError(f"{self.path}: {total} bytes uncompressed, more than the {MAX_TOTAL_BYTES} allowed")
        tops = {name.split("/", 1)[0] for name in self._members}
        if len(tops) == 1 and all("/" in name for name in self._members):
            self._prefix = tops.pop() + "/"
        self._zip = archive

    def __str__(self) -> str:
        return str(self.path)

    def exists(self, rel: str) -> bool:
        if self._zip is not None:
            return self._prefix + rel in self._members
        return (self.path / rel).is_file()

    def read_text(self, rel: str) -> str:
        if self._zip is None:
            path = self.path / rel
            if path.stat().st_size > MAX_MEMBER_BYTES:
                raise RawResultsError(f"{path}: {path.stat().st_size} bytes, more than the {MAX_MEMBER_BYTES} a "
                                      "results file may have")
            try:
                return path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise RawResultsError(f"{path}: not UTF-8 text") from None
        info = self._members[self._prefix + rel]
        with self._zip.open(info) as handle:
            data = handle.read(MAX_MEMBER_BYTES + 1)
        if len(data) > MAX_MEMBER_BYTES:
            raise RawResultsError(f"{self.path}: member {info.filename} inflates past {MAX_MEMBER_BYTES} bytes")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise RawResultsError(f"{self.path}: member {info.filename} is not UTF-8 text") from None

    def listdir(self, rel: str) -> list[str]:
        """File names directly inside the folder ``rel`` ('' = the root)."""
        if self._zip is None:
            folder = self.path / rel
            return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        base = self._prefix + (rel.rstrip("/") + "/" if rel else "")
        return sorted(name[len(base):] for name in self._members
                      if name.startswith(base) and "/" not in name[len(base):])

    def where(self, rel: str) -> str:
        return f"{self.path}!{rel}" if self._zip is not None else str(self.path / rel)


def _check_member_name(archive: Path, name: str) -> None:
    """Refuse member names that could point outside the archive's own tree (zip slip)."""
    parts = PurePosixPath(name).parts
    if (name.startswith("/") or "\\" in name or ".." in parts or re.match(r"^[A-Za-z]:", name)
            or any(p.startswith("~") for p in parts[:1])):
        raise RawResultsError(f"{archive}: unsafe member name {name!r} (absolute, '..' or a drive); "
                              f"the archive is not read")


def _numbered(source: ResultSource, folder: str, seq: str, digits: int | None = None) -> dict[int, str]:
    """``{number: relative path}`` of ``<folder>/<seq>_<number>.txt`` files (not ``_time``)."""
    pattern = re.compile(re.escape(seq) + (r"_(\d{%d})\.txt$" % digits if digits else r"_(\d+)\.txt$"))
    found = {}
    for name in source.listdir(folder):
        match = pattern.fullmatch(name)
        if match:
            found[int(match[1])] = f"{folder}/{name}" if folder else name
    return found


def _times(source: ResultSource, rel: str) -> np.ndarray | None:
    """Every entry of a times file (rows = frames, columns = runs), flattened; None when absent."""
    if not source.exists(rel):
        return None
    values = [v for number, line in enumerate(source.read_text(rel).splitlines(), start=1)
              for v in parse_numbers(line.replace(";", " "), source.where(rel), number)]
    return np.asarray(values, dtype=np.float64)


def _vot_folder(source: ResultSource, seq: str) -> str | None:
    for folder in (f"baseline/{seq}", seq):
        if source.listdir(folder):
            return folder
    return None


def detect_layout(source: ResultSource, seq: str, others: Collection[str] = ()) -> str:
    """``got10k`` / ``vot`` / ``plain`` from what exists for ``seq`` (``others``: the benchmark's other
    sequences, see :func:`candidate_names`); ``plain`` when nothing does."""
    if _numbered(source, f"baseline/{seq}", seq):
        return "vot"
    if _numbered(source, seq, seq, digits=3):
        return "got10k"
    if any(source.exists(f"{stem}.txt") for stem in candidate_names(seq, others)):
        return "plain"
    if _numbered(source, seq, seq):
        return "vot"
    return "plain"


def load_boxes(source: ResultSource, seq: Sequence, layout: str,
               others: Collection[str] = ()) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    """Box runs of one sequence and their times (empty when the layout carries none); None if absent.
    ``others``: the benchmark's other sequences (see :func:`candidate_names`)."""
    if layout == "got10k":
        runs = _numbered(source, seq.name, seq.name, digits=3)
        if not runs:
            return None
        _require_consecutive(source, seq.name, runs)
        boxes = [parse_boxes(source.read_text(runs[k]), source.where(runs[k])) for k in sorted(runs)]
        times = _times(source, f"{seq.name}/{seq.name}_time.txt")
        return boxes, [] if times is None else [times]
    if layout == "plain":
        stem = next((s for s in candidate_names(seq.name, others) if source.exists(f"{s}.txt")), None)
        if stem is None:
            return None
        boxes = parse_boxes(source.read_text(f"{stem}.txt"), source.where(f"{stem}.txt"))
        times = _times(source, f"{stem}_time.txt")
        return [boxes], [] if times is None else [times]
    raise RawResultsError(f"{source}: layout {layout!r} holds VOT trajectories, not boxes")


def load_supervised(source: ResultSource, seq: Sequence) -> list[list[Any]] | None:
    """VOT supervised runs (``<seq>_001.txt`` …, codes 1/2/0) of one sequence; None if absent."""
    folder = _vot_folder(source, seq.name)
    runs = _numbered(source, folder, seq.name, digits=3) if folder else {}
    if not runs:
        _refuse_binary(source, folder, seq.name)
        return None
    _require_consecutive(source, seq.name, runs)
    return [parse_trajectory(source.read_text(runs[k]), source.where(runs[k])) for k in sorted(runs)]


def load_multistart(source: ResultSource, seq: Sequence) -> dict[int, list[Any]] | None:
    """VOT multistart runs (``<seq>_<anchor>.txt``) of one sequence by anchor frame; None if absent."""
    folder = _vot_folder(source, seq.name)
    runs = _numbered(source, folder, seq.name) if folder else {}
    if not runs:
        _refuse_binary(source, folder, seq.name)
        return None
    return {anchor: parse_trajectory(source.read_text(rel), source.where(rel)) for anchor, rel in sorted(runs.items())}


def _require_consecutive(source: ResultSource, seq: str, runs: dict[int, str]) -> None:
    if sorted(runs) != list(range(1, len(runs) + 1)):
        raise RawResultsError(f"{source}: repetitions of {seq} are numbered {sorted(runs)}; expected 001 … "
                              f"{len(runs):03d} without gaps")


def _refuse_binary(source: ResultSource, folder: str | None, seq: str) -> None:
    if folder and any(name.endswith(".bin") for name in source.listdir(folder)):
        raise RawResultsError(f"{source.where(folder)}: vot-toolkit binary trajectories (.bin); convert them to "
                              f"text first (vot-toolkit writes .txt with 'trajectory_format: text')")


__all__ = ["LAYOUTS", "RawResultsError", "ResultSource", "ResultsFormatError", "detect_layout", "load_boxes",
           "load_multistart", "load_supervised"]
