"""Readers for benchmark annotation files, with errors that name the file and the line.

Benchmarks disagree on separators (commas, tabs, spaces, a mix within one OTB file, CRLF line
ends and space-padded fields in TrackingNet), so every numeric reader accepts all of them.
Ground truth is read as float64: evaluation must not lose the decimals of the official files.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ltr.admin.names import SequenceName, UnsafeNameError

_SEPARATORS = re.compile(r"[,\s]+")


MAX_COORDINATE = 1e7
"""Largest coordinate (px) an annotation or a result may hold; no benchmark frame is anywhere near it."""


class AnnotationError(ValueError):
    """A malformed annotation file; the message reads ``file:line: what is wrong``."""


class MissingFileError(FileNotFoundError):
    """A file or folder the benchmark layout requires is not there; the message names it."""


def require(path: Path, what: str) -> Path:
    """``path`` if it exists, else :class:`MissingFileError` saying what was expected there."""
    if not path.exists():
        raise MissingFileError(f"{path}: missing ({what})")
    return path


def read_lines(path: Path) -> list[str]:
    """Lines of a text file (UTF-8, BOM and CRLF tolerated), trailing whitespace stripped."""
    require(path, "annotation file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise AnnotationError(f"{path}: cannot read ({err})") from None
    return [line.rstrip() for line in text.splitlines()]


def read_name_list(path: Path) -> list[str]:
    """Non-empty stripped lines of a list file (``list.txt``, ``testing_set.txt``), each a safe
    :class:`~ltr.admin.names.SequenceName`; an empty list or a repeated name is an error naming
    ``file:line``."""
    names: list[str] = []
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            name = SequenceName(line.strip(), f"{path}:{lineno}")
        except UnsafeNameError as err:
            raise AnnotationError(str(err)) from None
        if name in first_line:
            raise AnnotationError(f"{path}:{lineno}: sequence {name!r} is listed again (first on line "
                                  f"{first_line[name]}); remove the duplicate line")
        first_line[name] = lineno
        names.append(name)
    if not names:
        raise AnnotationError(f"{path}: lists no sequences")
    return names


def parse_numbers(line: str, path: Path, lineno: int) -> list[float]:
    """The numbers of one line split on commas/whitespace; ``NaN`` is allowed."""
    fields = [f for f in _SEPARATORS.split(line.strip()) if f]
    try:
        return [float(f) for f in fields]
    except ValueError:
        bad = next(f for f in fields if not _is_float(f))
        raise AnnotationError(f"{path}:{lineno}: not a number: {bad!r} in {line.strip()!r}") from None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_table(path: Path, columns: int = 4, allow_empty: bool = False) -> np.ndarray:
    """A numeric table with ``columns`` values on every non-empty line, as float64 ``N x columns``.

    Blank lines are skipped; a line with another number of values raises AnnotationError naming
    ``file:line``. An empty file is an error unless ``allow_empty``.
    """
    rows = []
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        values = parse_numbers(line, path, lineno)
        if len(values) != columns:
            raise AnnotationError(f"{path}:{lineno}: expected {columns} values, found {len(values)}: {line.strip()!r}")
        rows.append(values)
    if not rows and not allow_empty:
        raise AnnotationError(f"{path}: empty annotation file")
    return np.asarray(rows, dtype=np.float64).reshape(-1, columns)


def read_int_labels(path: Path) -> np.ndarray:
    """Integer labels separated by commas, whitespace or newlines (one-per-line or one-line files)."""
    values = []
    for lineno, line in enumerate(read_lines(path), start=1):
        for v in parse_numbers(line, path, lineno) if line.strip() else []:
            if not np.isfinite(v) or v != int(v):
                raise AnnotationError(f"{path}:{lineno}: expected an integer label, found {v!r}")
            values.append(int(v))
    return np.asarray(values, dtype=np.int64)


def image_size(width: object, height: object, path: Path) -> tuple[int, int]:
    """A stated frame size ``(W, H)`` from an annotation file, refused unless both are positive integers."""
    try:
        size = (int(str(width).strip()), int(str(height).strip()))
    except ValueError:
        size = None
    if size is None or min(size) < 1:
        raise AnnotationError(f"{path}: the stated image size {width!s} x {height!s} is not two positive integers")
    return size


def read_float_column(path: Path) -> np.ndarray:
    """One float per line (VOT ``*.value`` files)."""
    return read_table(path, columns=1, allow_empty=True).reshape(-1)


def pad_labels(labels: np.ndarray, length: int, path: Path) -> np.ndarray:
    """Pad a per-frame label vector with zeros to ``length`` (VOT tag files may be shorter).

    A vector longer than the sequence is an error naming the file.
    """
    if len(labels) > length:
        raise AnnotationError(f"{path}: {len(labels)} labels for a {length}-frame sequence")
    return np.concatenate([labels, np.zeros(length - len(labels), dtype=labels.dtype)])


def check_length(boxes: np.ndarray, frames: int, path: Path) -> None:
    """Ground truth must have one row per frame."""
    if len(boxes) != frames:
        raise AnnotationError(f"{path}: {len(boxes)} annotation rows for {frames} frames")


def numbered_frames(folder: Path, suffixes: tuple[str, ...] = (".jpg",)) -> list[str]:
    """Image files of ``folder`` whose stems are integers, sorted numerically (``10.jpg`` after ``9.jpg``).

    The numbers must run without a gap or a repeat (``1, 2, 3, ...`` from whatever the first is):
    ground-truth rows are matched to frames by position, so a missing frame would shift every
    later row onto the wrong image.
    """
    require(folder, "frames folder")
    frames = [p for p in folder.iterdir() if p.suffix.lower() in suffixes and p.stem.isdigit()]
    if not frames:
        raise MissingFileError(f"{folder}: no {'/'.join(suffixes)} frames")
    frames.sort(key=lambda p: int(p.stem))
    numbers = np.array([int(p.stem) for p in frames])
    steps = np.diff(numbers)
    if steps.size and (steps != 1).any():
        at = int(np.argmax(steps != 1))
        what = "repeated" if steps[at] == 0 else f"missing {numbers[at] + 1}..{numbers[at + 1] - 1}"
        raise AnnotationError(f"{folder}: frame numbering broken after {frames[at].name} ({what}: "
                              f"{frames[at + 1].name} follows); restore the missing frames")
    return [str(p) for p in frames]


def nan_after_first(first: np.ndarray, frames: int) -> np.ndarray:
    """Ground truth known only on frame 1 (GOT-10k test, TrackingNet test): NaN rows after it."""
    gt = np.full((frames, 4), np.nan)
    gt[0] = first[0]
    return gt
