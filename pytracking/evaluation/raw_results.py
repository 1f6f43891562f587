"""Results-only trackers: raw result folders of other methods (``<folder>/<seq>.txt``).

Downloaded results use other toolkits' names and formats: any delimiter, ints or floats, and
OTB's lower-case first letter (``basketball.txt``), got10k/pysot target suffixes
(``Jogging.1``, ``Jogging-1``), or no suffix for single-target sequences (``Human4``). The runner
imports them into the regular results layout (``RunDir``), so the analysis reads every method
the same way.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

import numpy as np

from pytracking.evaluation.results import read_boxes

_TARGET_SUFFIX = re.compile(r"^(?P<base>.+)_(?P<k>\d)$")


def candidate_names(seq: str, others: Collection[str] = ()) -> list[str]:
    """File stems a raw result of ``seq`` may have, most specific first.

    The bare base (``Human4`` for ``Human4_2``) is a candidate only when no other sequence of the
    benchmark (``others``) shares it: ``Jogging.txt`` cannot say which of ``Jogging_1`` and
    ``Jogging_2`` it holds, so it is used for neither.
    """
    stems = [seq]
    match = _TARGET_SUFFIX.match(seq)
    if match:
        base, k = match["base"], match["k"]
        stems += [f"{base}.{k}", f"{base}-{k}"]
        if not any(_base(other) == base for other in others if other != seq):
            stems.append(base)
    for stem in list(stems):
        stems += [stem[:1].lower() + stem[1:], stem.lower()]
    return list(dict.fromkeys(stems))


def _base(seq: str) -> str | None:
    match = _TARGET_SUFFIX.match(seq)
    return match["base"] if match else None


def find_result_file(folder: Path, seq: str, others: Collection[str] = ()) -> Path:
    """The raw result file of ``seq`` in ``folder`` (``others``: the benchmark's other sequences,
    see :func:`candidate_names`); FileNotFoundError lists the names tried."""
    stems = candidate_names(seq, others)
    for stem in stems:
        path = Path(folder) / f"{stem}.txt"
        if path.is_file():
            return path
    raise FileNotFoundError(f"{folder}: no raw result for '{seq}' (tried {', '.join(stems)}.txt)")


def read_raw_results(folder: Path, seq: str, others: Collection[str] = ()) -> tuple[np.ndarray, Path]:
    """Boxes of ``seq`` from a raw results folder, and the file they came from."""
    path = find_result_file(folder, seq, others)
    return read_boxes(path), path
