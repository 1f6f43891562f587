"""Raw tracking results on disk: one text file of boxes per sequence, times, and a JSON sidecar.

Layout: ``<root>/<benchmark>/<tracker>/<config>/run_<r:03d>/<seq>.txt`` (comma-separated
``x,y,w,h`` floats, one line per frame), ``<seq>_time.txt`` (seconds per frame) and
``<seq>.json`` (tracker, config hash, checkpoint, code version, timing), plus ``<seq>_masks.npz``
(``masks``: N x H x W uint8) for segmentation trackers. The sidecar is written
last, so a sequence counts as finished only when all three files exist; each is written atomically.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ltr.admin.atomic import atomic_write_text, atomic_write_with
from ltr.admin.lock import workspace_lock
from ltr.admin.names import SequenceName
from pytracking.evaluation.annotations import MAX_COORDINATE

logger = logging.getLogger(__name__)
_SPLIT = re.compile(r"[,\s;]+")


class ResultsFormatError(ValueError):
    """A results file that cannot be parsed."""


MAX_RESULTS_FILE_BYTES = 64 << 20  # a million frames of boxes fit in 40 MB


def read_boxes(path: str | Path, columns: int = 4) -> np.ndarray:
    """Read a boxes file with any delimiter (comma, tab, space, semicolon), ints or floats
    (see :func:`parse_boxes`); a file over ``MAX_RESULTS_FILE_BYTES`` is refused unread."""
    return parse_boxes(read_results_text(Path(path)), str(path), columns)


def read_results_text(path: Path) -> str:
    """The UTF-8 text of a results file, refused when missing, over ``MAX_RESULTS_FILE_BYTES`` or not text."""
    if not path.is_file():
        raise ResultsFormatError(f"{path}: results file not found")
    size = path.stat().st_size
    if size > MAX_RESULTS_FILE_BYTES:
        raise ResultsFormatError(f"{path}: {size} bytes, more than the {MAX_RESULTS_FILE_BYTES} a results file may "
                                 "have (one line per frame); not a results file?")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ResultsFormatError(f"{path}: not a text results file (byte {err.start} is not UTF-8)") from None


def parse_boxes(text: str, source: str, columns: int = 4) -> np.ndarray:
    """Boxes from results text (a file, a zip member); ``source`` names it in errors and warnings.

    Lines that are ``nan``/empty values are kept as NaN rows; a malformed line raises an error
    naming the source and the line. Values that are infinite or beyond ``±MAX_COORDINATE`` (e.g.
    ``1e308`` from a diverged tracker) are read as NaN, with a warning naming the source, so every
    protocol repairs and lists them exactly as it does NaN boxes.
    """
    values = _parse_uniform(text, columns)
    if values is None:
        values = _parse_lines(text, source, columns)
    bad = ~np.isfinite(values) & ~np.isnan(values) | (np.abs(np.nan_to_num(values, nan=0.0, posinf=0.0,
                                                                             neginf=0.0)) > MAX_COORDINATE)
    if bad.any():
        logger.warning("%s: %d values infinite or beyond ±%g (first on line %d) read as NaN", source, int(bad.sum()),
                       MAX_COORDINATE, int(np.flatnonzero(bad.any(axis=1))[0]) + 1)
        values = np.where(bad, np.nan, values)
    return values


def _parse_lines(text: str, source: str, columns: int) -> np.ndarray:
    """Line-by-line parse that names the first malformed line."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [p for p in _SPLIT.split(line) if p]
        if len(parts) != columns:
            raise ResultsFormatError(f"{source}:{number}: expected {columns} values, got {len(parts)}: {line!r}")
        try:
            rows.append([float(p) for p in parts])
        except ValueError:
            raise ResultsFormatError(f"{source}:{number}: not a number in {line!r}") from None
    return np.asarray(rows, dtype=np.float64).reshape(-1, columns)


def _parse_uniform(text: str, columns: int) -> np.ndarray | None:
    """Vectorised parse when every line holds exactly ``columns`` fields, all separated by one comma or
    by whitespace alone; None to fall back to :func:`_parse_lines` (which names a malformed line)."""
    lines = text.splitlines()
    if not lines:
        return None
    if "," in text:
        # every field between two commas: "1,,2,3" or "1,2,3,4 0.9" are not uniform
        if "\t" in text or ";" in text or any(len(line.split(",")) != columns or len(line.split()) != 1
                                               for line in lines):
            return None
    elif any(len(line.split()) != columns for line in lines):
        return None
    try:
        return np.array(text.replace(",", " ").split(), dtype=np.float64).reshape(-1, columns)
    except ValueError:
        return None


def format_boxes(boxes: np.ndarray) -> str:
    """Comma-separated boxes, full float precision (no integer rounding)."""
    return "".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in np.asarray(boxes, dtype=np.float64))


@dataclass(frozen=True)
class RunDir:
    """The folder of one run of one tracker configuration on one benchmark."""

    root: Path
    benchmark: str
    tracker: str
    config: str
    run: int = 0

    @property
    def path(self) -> Path:
        """The run folder; every part is checked to be one plain path component."""
        parts = [SequenceName(p, f"results folder part {p!r}") for p in (self.benchmark, self.tracker, self.config)]
        return self.root.joinpath(*parts, f"run_{self.run:03d}")

    def _file(self, seq: str, suffix: str) -> Path:
        return self.path / f"{SequenceName(seq, 'result file of sequence')}{suffix}"

    def boxes_file(self, seq: str) -> Path:
        return self._file(seq, ".txt")

    def times_file(self, seq: str) -> Path:
        return self._file(seq, "_time.txt")

    def sidecar_file(self, seq: str) -> Path:
        return self._file(seq, ".json")

    def masks_file(self, seq: str) -> Path:
        return self._file(seq, "_masks.npz")

    def is_finished(self, seq: str) -> bool:
        """True only when boxes, times and the sidecar (written last) all exist."""
        return all(p.is_file() for p in (self.boxes_file(seq), self.times_file(seq), self.sidecar_file(seq)))

    def write(self, seq: str, boxes: np.ndarray, times: np.ndarray, meta: dict[str, Any],
              masks: np.ndarray | None = None) -> None:
        """Write one finished sequence (and its masks, if any); the sidecar goes last and marks completion."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        if len(times) != len(boxes):
            raise ValueError(f"{seq}: {len(boxes)} boxes but {len(times)} times")
        with workspace_lock(self.path / ".write.lock", f"writing results in {self.path}"):
            # two runs writing the same sequence (unsharded twice): one writer's files, never a mix
            atomic_write_text(self.boxes_file(seq), format_boxes(boxes))
            atomic_write_text(self.times_file(seq), "".join(f"{t:.6f}\n" for t in times))
            if masks is not None:
                atomic_write_with(self.masks_file(seq),
                                  lambda f: np.savez_compressed(f, masks=np.asarray(masks, np.uint8)))
            atomic_write_text(self.sidecar_file(seq), json.dumps(meta, indent=2, sort_keys=True))

    def read(self, seq: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Boxes and (when present) per-frame times of a sequence."""
        boxes = read_boxes(self.boxes_file(seq))
        times_path = self.times_file(seq)
        times = read_boxes(times_path, columns=1).reshape(-1) if times_path.is_file() else None
        return boxes, times

    def read_masks(self, seq: str) -> np.ndarray | None:
        """The ``N x H x W`` uint8 masks of a sequence, or None when the tracker wrote none."""
        path = self.masks_file(seq)
        if not path.is_file():
            return None
        with np.load(path) as data:
            return data["masks"]

    def read_meta(self, seq: str) -> dict[str, Any]:
        """The sidecar of ``seq``; a damaged one raises :class:`ResultsFormatError` naming it."""
        path = self.sidecar_file(seq)
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ResultsFormatError(f"{path}: damaged results sidecar ({err}); delete it and the sequence's "
                                     "result files, then run again to recompute them") from None
        if not isinstance(meta, dict):
            raise ResultsFormatError(f"{path}: results sidecar is not a JSON object")
        return meta
