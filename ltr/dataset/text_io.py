"""Readers for the small text files of tracking datasets: box tables, flag files, name lists.

Dataset files disagree on separators (commas, spaces, tabs, CRLF line ends, space-padded
fields), so every reader accepts all of them. Parsing is vectorised for speed (a GOT-10k
index reads ~40,000 of these files) and falls back to a line-by-line pass only to name the
file and line of a malformed entry.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ltr.admin.names import UnsafeNameError, check_names

_SEPARATORS = re.compile(r"[,\s]+")


class AnnotationError(ValueError):
    """A malformed annotation file; the message names the file and, where known, the line."""


def read_text(path: Path) -> str:
    """The file's text (UTF-8, BOM tolerated); a missing file raises AnnotationError naming it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AnnotationError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise AnnotationError(f"{path}: cannot read ({err})") from None


def read_name_list(path: Path) -> list[str]:
    """Non-empty, stripped lines of a list file (``list.txt``, ``training_set.txt``, ...); each must
    be a safe single path component (:class:`ltr.admin.names.SequenceName`)."""
    from ltr.admin.names import SequenceName, UnsafeNameError

    names = []
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        if line.strip():
            try:
                names.append(SequenceName(line.strip(), f"{path}:{lineno}"))
            except UnsafeNameError as err:
                raise AnnotationError(str(err)) from None
    return names


def _numbers(text: str, path: Path, lineno: int) -> np.ndarray:
    fields = [f for f in _SEPARATORS.split(text.strip()) if f]
    try:
        return np.array([float(f) for f in fields], dtype=np.float64)
    except ValueError:
        bad = next(f for f in fields if not _is_float(f))
        raise AnnotationError(f"{path}:{lineno}: not a number: {bad!r}") from None


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_table(path: Path, columns: int) -> np.ndarray:
    """A numeric table with ``columns`` values per non-empty line, as float32 ``N x columns``.

    ``NaN`` entries are kept; values beyond float32's range become ``inf`` (an invalid box).
    An empty file, or a line with a different number of values, raises AnnotationError naming
    the file (and ``file:line``).
    """
    lines = [(lineno, line.strip()) for lineno, line in enumerate(read_text(path).splitlines(), start=1) if line.strip()]
    if not lines:
        raise AnnotationError(f"{path}: empty annotation file (no rows)")
    rows = [_SEPARATORS.split(line) for _, line in lines]
    for (lineno, line), fields in zip(lines, rows):
        if len(fields) != columns:
            raise AnnotationError(f"{path}:{lineno}: expected {columns} values, found {len(fields)}: {line!r}")
    try:
        with np.errstate(over="ignore"):
            return np.array(rows, dtype=np.float32)
    except ValueError:
        for lineno, line in lines:
            _numbers(line, path, lineno)
        raise AnnotationError(f"{path}: cannot parse as a {columns}-column table") from None


def _labels_ok(values: np.ndarray, largest: int) -> bool:
    """Whether every value is an integer label in ``0..largest`` (NaN and inf are not)."""
    return bool(np.all((values >= 0) & (values <= largest) & (values == np.floor(values))))


def read_flags(path: Path, largest: int = 1) -> np.ndarray:
    """Integer labels ``0..largest`` separated by commas, whitespace or newlines, as an int32 vector.

    Covers both one-label-per-line files (GOT-10k ``absence.label``) and single-line
    comma-separated files (LaSOT ``full_occlusion.txt``). Any other value (``0.5``, ``-1``,
    ``nan``, ``1e20``) raises AnnotationError naming ``file:line``: a cast would turn it into a
    wrong label silently.
    """
    text = read_text(path)
    fields = _SEPARATORS.split(text.strip()) if text.strip() else []
    try:
        values = np.array(fields, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None and _labels_ok(values, largest):
        return values.astype(np.int32)
    for lineno, line in enumerate(text.splitlines(), start=1):
        bad = [v for v in _numbers(line, path, lineno) if not _labels_ok(np.array([v]), largest)]
        if bad:
            raise AnnotationError(f"{path}:{lineno}: expected an integer label in 0..{largest}, found {bad[0]:g}")
    raise AnnotationError(f"{path}: cannot parse labels")


def read_sequence_list(path: Path) -> list[str]:
    """The names of a dataset's sequence list file; an empty list or a repeated name raises
    AnnotationError naming the file (a dataset without sequences fails much later otherwise)."""
    try:
        return check_names(read_name_list(path), str(path))
    except UnsafeNameError as err:
        raise AnnotationError(str(err)) from None


def check_length(values: np.ndarray, expected: int, path: Path) -> np.ndarray:
    """``values`` unchanged, or AnnotationError naming ``path`` when its length is not ``expected``."""
    if len(values) != expected:
        raise AnnotationError(f"{path}: {len(values)} entries, but the ground truth has {expected} frames")
    return values
