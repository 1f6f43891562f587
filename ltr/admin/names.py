"""Names read from data files (sequence names, archive members) that become parts of paths.

A name from ``list.txt``, a results folder or a sequence table is joined to a folder to make a
path; ``../x``, ``/etc/x`` or ``a/b`` would then point outside that folder (result files written
anywhere, zip-slip members in a submission archive). :class:`SequenceName` is the one validated
type: a single path component, not empty, not ``.``/``..``, without separators, NUL or control
characters. Everything that turns such a name into a path goes through it.
"""
from __future__ import annotations

import re

_BAD_CHARS = re.compile(r"[/\\\x00-\x1f\x7f]")


class UnsafeNameError(ValueError):
    """A name from a data file that cannot safely be used as one path component."""


class SequenceName(str):
    """A ``str`` that is safe as a single path component; construction validates it.

    ``where`` (e.g. ``"list.txt:12"``) goes into the error message.
    """

    def __new__(cls, name: str, where: str = "") -> "SequenceName":
        if isinstance(name, SequenceName):
            return name
        problem = name_problem(name)
        if problem:
            prefix = f"{where}: " if where else ""
            raise UnsafeNameError(f"{prefix}sequence name {name!r} {problem}; names must be one plain "
                                  "path component (fix the name in the file)")
        return super().__new__(cls, name)


def name_problem(name: object) -> str:
    """Why ``name`` is not a safe single path component; empty when it is."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not text"
    if not name or not name.strip():
        return "is empty"
    if name in (".", ".."):
        return "is a relative folder reference"
    if name != name.strip():
        return "has leading or trailing spaces"
    if _BAD_CHARS.search(name):
        return "contains a path separator or a control character"
    if len(name.encode("utf-8", "surrogateescape")) > 200:
        return "is longer than 200 bytes"
    return ""


def check_names(names: list[str], where: str) -> list[SequenceName]:
    """Validate a list of names from one source: each safe, none repeated, the list not empty."""
    if not names:
        raise UnsafeNameError(f"{where}: lists no sequences")
    seen: dict[str, int] = {}
    out = []
    for index, name in enumerate(names, start=1):
        checked = SequenceName(name, f"{where} (entry {index})")
        if checked in seen:
            raise UnsafeNameError(f"{where}: sequence {name!r} is listed twice (entries {seen[checked]} and "
                                  f"{index}); remove the duplicate")
        seen[checked] = index
        out.append(checked)
    return out
