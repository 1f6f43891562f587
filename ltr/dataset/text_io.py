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

    ``NaN`` entries are kept. A line with a different number of values raises
    AnnotationError naming ``file:line``.
    """
    text = read_text(path)
    lines = [line for line in text.splitlines() if line.strip()]
    fields = _SEPARATORS.split(text.strip()) if lines else []
    try:
        values = np.array(fields, dtype=np.float32)
    except ValueError:
        values = None
    if values is not None and values.size == columns * len(lines):
        return values.reshape(len(lines), columns)
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            row = _numbers(line, path, lineno)
            if row.size != columns:
                raise AnnotationError(f"{path}:{lineno}: expected {columns} values, found {row.size}: {line.strip()!r}")
    raise AnnotationError(f"{path}: cannot parse as a {columns}-column table")


def read_flags(path: Path) -> np.ndarray:
    """Integer labels separated by commas, whitespace or newlines, as an int32 vector.

    Covers both one-label-per-line files (GOT-10k ``absence.label``) and single-line
    comma-separated files (LaSOT ``full_occlusion.txt``).
    """
    text = read_text(path)
    if not text.strip():
        return np.zeros(0, np.int32)
    try:
        return np.array(_SEPARATORS.split(text.strip()), dtype=np.float32).astype(np.int32)
    except ValueError:
        for lineno, line in enumerate(text.splitlines(), start=1):
            _numbers(line, path, lineno)
        raise AnnotationError(f"{path}: cannot parse labels") from None


def check_length(values: np.ndarray, expected: int, path: Path) -> np.ndarray:
    """``values`` unchanged, or AnnotationError naming ``path`` when its length is not ``expected``."""
    if len(values) != expected:
        raise AnnotationError(f"{path}: {len(values)} entries, but the ground truth has {expected} frames")
    return values
