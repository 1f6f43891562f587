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
from pytracking.evaluation.annotations import MissingFileError, numbered_frames
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
        self.frames_optional = False

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

    def _frames(self, folder: Path, count: int | None, suffixes: tuple[str, ...] = (".jpg",)) -> list[str]:
        """Numbered frames of ``folder``. In an annotations-only view (:meth:`without_frames`) a
        folder without frames gives ``count`` placeholder paths instead (``count`` = the number of
        annotated frames; None when the annotation cannot tell, e.g. first-frame-only test GT)."""
        if self.frames_optional and not (folder.is_dir() and any(
                p.suffix.lower() in suffixes and p.stem.isdigit() for p in folder.iterdir())):
            if count is None:
                raise MissingFileError(f"{folder}: no frames, and the annotation alone does not give the "
                                       f"sequence length (it has only the first box)")
            return [str(folder / f"{n:08d}{suffixes[0]}") for n in range(1, count + 1)]
        return numbered_frames(folder, suffixes)

    def _require_frame(self, path: Path, what: str) -> None:
        """Raise MissingFileError for a missing frame, unless frames are optional (analysis)."""
        if not self.frames_optional and not Path(path).is_file():
            raise MissingFileError(f"{path}: missing ({what})")

    # -- shared API ---------------------------------------------------------------------------
    def without_frames(self) -> EvalDataset:
        """A view that needs only the annotations: scoring results does not read images, so a
        dataset downloaded without its frames can still be analysed (placeholder frame paths,
        ``Sequence.extra["frames_missing"]`` set; VOT image sizes then come from the ``sequence``
        file when it gives them)."""
        view = copy.copy(self)
        view.frames_optional = True
        return view

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
        return self._get(name)

    def __len__(self) -> int:
        return len(self.sequence_names())

    def __iter__(self) -> Iterator[Sequence]:
        return (self._get(n) for n in self.sequence_names())

    def _get(self, name: str) -> Sequence:
        seq = self._load(name)
        missing = self.frames_optional and not (seq.frames and Path(seq.frames[0]).is_file())
        if self.frames_optional:
            seq.extra["frames_missing"] = missing
        return validate_sequence(seq, frames_on_disk=not missing)

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
