"""UAV123 (and UAV20L): frame ranges of shared image folders from package data ``uav123.json``.

``anno/UAV123/<seq>.txt`` has one ``x,y,w,h`` row per frame of the range, ``NaN,NaN,NaN,NaN``
where the target is not visible (those rows stay NaN and ``target_visible`` is False there).
The 12 UAV123 attributes are read per sequence from ``anno/UAV123/att/<seq>.txt`` (12
comma-separated 0/1 flags, in ``attribute_names`` order) when the dataset folder has them, or
from a user CSV (``attributes_csv``: a ``sequence`` column plus one 0/1 column per attribute).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pytracking.evaluation.annotations import (
    AnnotationError,
    MissingFileError,
    check_length,
    read_table,
)
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.base import EvalDataset, package_data
from pytracking.evaluation.sequence import Sequence

_TABLE = package_data("uav123.json")
_ATTRIBUTES = package_data("attributes.json")["uav123"]


def read_attribute_csv(path: Path, names: list[str]) -> dict[str, list[str]]:
    """``{sequence: [tags]}`` from a CSV with a ``sequence`` column and 0/1 columns named by tag."""
    import pandas as pd  # only needed for user tables; keeps worker start-up light

    if not Path(path).is_file():
        raise MissingFileError(f"{path}: missing (attributes CSV)")
    table = pd.read_csv(path, dtype={"sequence": str})
    missing = [c for c in ["sequence", *names] if c not in table.columns]
    if missing:
        raise AnnotationError(f"{path}: missing columns {', '.join(missing)}")
    return {row["sequence"]: [n for n in names if int(row[n])] for _, row in table.iterrows()}


def read_attribute_flags(path: Path, names: list[str]) -> list[str]:
    """Tags set in a one-line flag file (``1,0,0,...``) with one flag per attribute name."""
    flags = read_table(path, columns=len(names))
    if len(flags) != 1:
        raise AnnotationError(f"{path}: expected one line of {len(names)} flags, found {len(flags)} lines")
    return [n for n, f in zip(names, flags[0]) if f]


@EVAL_DATASETS.register("uav")
class UAV123(EvalDataset):
    """UAV123 (split ``test``, 123 sequences) or UAV20L (split ``uav20l``, full-length folders)."""

    name = "uav"
    paths_key = "uav"
    splits = ("test", "uav20l")
    attribute_names = _ATTRIBUTES["names"]

    def __init__(self, root: str | Path | None = None, split: str | None = None,
                 attributes_csv: str | None = None) -> None:
        super().__init__(root, split)
        self._csv = read_attribute_csv(Path(attributes_csv), list(self.attribute_names)) if attributes_csv else None

    @property
    def _subset(self) -> str:
        return "UAV123" if self.split == "test" else "UAV20L"

    def _names(self) -> list[str]:
        if self.split == "test":
            return list(_TABLE["UAV123"])
        folder = self.root / "anno" / "UAV20L"
        if not folder.is_dir():
            raise MissingFileError(f"{folder}: missing (UAV20L annotations)")
        return sorted(p.stem for p in folder.glob("*.txt"))

    def sequence_attributes(self, name: str) -> list[str]:
        if self._csv is not None:
            return self._csv.get(name, [])
        path = self.root / "anno" / self._subset / "att" / f"{name}.txt"
        return read_attribute_flags(path, list(self.attribute_names)) if path.is_file() else []

    def _load(self, name: str) -> Sequence:
        anno = self.root / "anno" / self._subset / f"{name}.txt"
        gt = read_table(anno, columns=4)
        if self.split == "test":
            info = _TABLE["UAV123"][name]
            folder, start, end, cls = info["folder"], info["start_frame"], info["end_frame"], info["object_class"]
        else:
            folder, start, end, cls = name, 1, len(gt), None
        images = self.root / "data_seq" / "UAV123" / folder
        frames = [str(images / f"{n:06d}.jpg") for n in range(start, end + 1)]
        for path in (frames[0], frames[-1]):
            self._require_frame(Path(path), f"frame of UAV123 sequence {name}")
        check_length(gt, len(frames), anno)
        visible = ~np.isnan(gt).any(axis=1)
        return Sequence(name=name, dataset=self.name, frames=frames, ground_truth=gt, target_visible=visible,
                        attributes=self.sequence_attributes(name), object_class=cls)
