"""LaSOT: ``<class>/<class>-<n>/`` folders; test protocol (280 sequences of ``testing_set.txt``),
``train`` (``training_set.txt``) or ``all`` (every sequence folder found, 1,400 in the release).

Visibility is "neither ``full_occlusion`` nor ``out_of_view``" (each a single line of 0/1
flags). Boxes of invisible frames are arbitrary in the files and are kept as they are; the
protocols mask them by visibility. Per-sequence attributes (14 flags) are read from the toolkit's
``annos/att/<seq>.txt`` or ``att/<seq>.txt`` under the root, ``attributes_dir``, or a CSV.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pytracking.evaluation.annotations import (
    AnnotationError,
    MissingFileError,
    check_length,
    read_int_labels,
    read_lines,
    read_name_list,
    read_table,
)
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.base import EvalDataset, package_data
from pytracking.evaluation.datasets.uav import read_attribute_csv, read_attribute_flags
from pytracking.evaluation.sequence import Sequence

_ATTRIBUTES = package_data("attributes.json")["lasot"]


def lasot_class(name: str) -> str:
    """Class of a sequence name, ``airplane-1`` -> ``airplane`` (split at the last ``-``, as got10k does)."""
    return name[: name.rfind("-")]


@EVAL_DATASETS.register("lasot")
class LaSOT(EvalDataset):
    """LaSOT reader; ``split`` is ``test`` (protocol II, 280), ``train`` (1,120) or ``all``."""

    name = "lasot"
    paths_key = "lasot"
    splits = ("test", "train", "all")
    attribute_names = _ATTRIBUTES["names"]

    def __init__(self, root: str | Path | None = None, split: str | None = None,
                 attributes_dir: str | None = None, attributes_csv: str | None = None) -> None:
        super().__init__(root, split)
        self._att_dirs = [Path(attributes_dir)] if attributes_dir else [self.root / "annos" / "att", self.root / "att"]
        self._csv = read_attribute_csv(Path(attributes_csv), list(self.attribute_names)) if attributes_csv else None

    def _names(self) -> list[str]:
        if self.split == "all":
            return sorted(p.parent.name for p in self.root.glob("*/*-*/groundtruth.txt"))
        return read_name_list(self.root / ("testing_set.txt" if self.split == "test" else "training_set.txt"))

    def sequence_attributes(self, name: str) -> list[str]:
        if self._csv is not None:
            return self._csv.get(name, [])
        for folder in self._att_dirs:
            if (folder / f"{name}.txt").is_file():
                return read_attribute_flags(folder / f"{name}.txt", list(self.attribute_names))
        return []

    def _flags(self, path: Path, frames: int) -> np.ndarray:
        flags = read_int_labels(path)
        if len(flags) != frames:
            raise AnnotationError(f"{path}: {len(flags)} flags for {frames} frames")
        return flags.astype(bool)

    def _load(self, name: str) -> Sequence:
        folder = self.root / lasot_class(name) / name
        if not folder.is_dir():
            raise MissingFileError(f"{folder}: missing (LaSOT sequence folder of {name})")
        gt = read_table(folder / "groundtruth.txt", columns=4)
        frames = self._frames(folder / "img", len(gt))
        check_length(gt, len(frames), folder / "groundtruth.txt")
        occluded = self._flags(folder / "full_occlusion.txt", len(frames))
        out_of_view = self._flags(folder / "out_of_view.txt", len(frames))
        nlp = folder / "nlp.txt"
        extra = {"full_occlusion": occluded, "out_of_view": out_of_view}
        if nlp.is_file():
            extra["nlp"] = " ".join(read_lines(nlp)).strip()
        return Sequence(name=name, dataset=self.name, frames=frames, ground_truth=gt,
                        target_visible=~occluded & ~out_of_view, attributes=self.sequence_attributes(name),
                        object_class=lasot_class(name), extra=extra)
