"""What every evaluation dataset provides: sequence names, lazily built Sequences, attribute subsets.

A dataset reads one benchmark's real on-disk layout (``specs/formats.md``). Listing names is
cheap; annotations are parsed only when a sequence is asked for, so a runner worker loads just
the sequence it tracks. Per-sequence attributes come from package data or from files in the
dataset folder, never from guesses.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from ltr.admin.names import UnsafeNameError, check_names
from ltr.admin.paths import load_paths
from pytracking.evaluation.annotations import AnnotationError
from pytracking.evaluation.sequence import Sequence
from pytracking.evaluation.validation import validate_sequence


def package_data(name: str) -> Any:
    """A JSON file of ``pytracking/evaluation/data/``."""
    return json.loads(resources.files("pytracking.evaluation.data").joinpath(name).read_text(encoding="utf-8"))


class EvalDataset:
    """Base class of the benchmark readers; subclasses implement :meth:`_names` and :meth:`_load`.

    ``name`` is the registry name, ``paths_key`` the key of ``ltr.admin.paths`` whose root is used
    when none is given. ``results_name`` names the results folder of this dataset (and split).
    """

    name: str = "base"
    paths_key: str = ""
    splits: tuple[str, ...] = ("test",)
    attribute_names: ClassVar[dict[str, str]] = {}

    def __init__(self, root: str | Path | None = None, split: str | None = None) -> None:
        self.split = split or self.splits[0]
        if self.split not in self.splits:
            raise ValueError(f"dataset '{self.name}': unknown split '{self.split}'; known: {', '.join(self.splits)}")
        self.root = Path(root) if root is not None else load_paths().dataset_root(self.paths_key)
        self._selected: list[str] | None = None

    # -- what subclasses implement ------------------------------------------------------------
    def _names(self) -> list[str]:
        """All sequence names of the split, in benchmark order."""
        raise NotImplementedError

    def _load(self, name: str) -> Sequence:
        """Parse one sequence's frames and annotations."""
        raise NotImplementedError

    def sequence_attributes(self, name: str) -> list[str]:
        """Attribute tags of a sequence (short names); empty when the benchmark has none."""
        return []

    # -- shared API ---------------------------------------------------------------------------
    @property
    def results_name(self) -> str:
        """Folder name of this benchmark's results: the dataset name, plus the split if not the default."""
        return self.name if self.split == self.splits[0] else f"{self.name}_{self.split}"

    def sequence_names(self) -> list[str]:
        """Names of the sequences of this dataset (after any :meth:`select` / :meth:`subset`)."""
        if self._selected is None:
            try:
                self._selected = check_names(self._names(), f"dataset '{self.name}' ({self.split}) at {self.root}")
            except UnsafeNameError as err:
                raise AnnotationError(str(err)) from None
        return list(self._selected)

    def sequence(self, name: str) -> Sequence:
        """The Sequence called ``name``; an unknown name raises KeyError listing a few known ones."""
        if name not in self.sequence_names():
            known = ", ".join(self.sequence_names()[:8])
            raise KeyError(f"dataset '{self.name}': no sequence '{name}' (e.g. {known}, ...)")
        return validate_sequence(self._load(name))

    def __len__(self) -> int:
        return len(self.sequence_names())

    def __iter__(self) -> Iterator[Sequence]:
        return (self.sequence(n) for n in self.sequence_names())

    def select(self, names: list[str]) -> EvalDataset:
        """A view restricted to ``names`` (kept in benchmark order); unknown names raise KeyError."""
        unknown = sorted(set(names) - set(self.sequence_names()))
        if unknown:
            raise KeyError(f"dataset '{self.name}': unknown sequences {', '.join(unknown[:8])}")
        wanted = set(names)
        view = copy.copy(self)
        view._selected = [n for n in self.sequence_names() if n in wanted]
        return view

    def subset(self, attribute: str) -> EvalDataset:
        """A view of the sequences tagged with ``attribute`` (short name, e.g. ``OCC``)."""
        if self.attribute_names and attribute not in self.attribute_names:
            raise KeyError(f"dataset '{self.name}': unknown attribute '{attribute}'; "
                           f"known: {', '.join(self.attribute_names)}")
        return self.select([n for n in self.sequence_names() if attribute in self.sequence_attributes(n)])
