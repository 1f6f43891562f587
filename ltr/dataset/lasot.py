"""LaSOT training sequences (70 classes; the official protocol trains on 1,120 of 1,400).

Layout (specs/formats.md): ``<class>/<class>-<n>/{img/00000001.jpg, groundtruth.txt,
full_occlusion.txt, out_of_view.txt, nlp.txt}``, plus ``training_set.txt`` /
``testing_set.txt`` at the root.

Sequence list: the names in ``training_set.txt`` when present (the official protocol), else
every sequence folder not named in ``testing_set.txt``; with neither file, every sequence
folder (logged as a warning). The class is the folder name (``name[:name.rfind('-')]``).
Visible = neither the occlusion nor the out-of-view flag is set.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ltr.dataset.base import TRAIN_DATASETS
from ltr.dataset.frame_store import FrameStore
from ltr.dataset.index_cache import SequenceIndex
from ltr.dataset.indexed import IndexedVideoDataset
from ltr.dataset.text_io import AnnotationError, check_length, read_flags, read_name_list, read_sequence_list, read_table

logger = logging.getLogger(__name__)


def class_of(name: str, where: str = "LaSOT") -> str:
    """``airplane-1`` -> ``airplane`` (the class folder of a sequence); a name without a class
    part before a ``-`` raises AnnotationError naming ``where`` (it would name the wrong folder)."""
    cut = name.rfind("-")
    if cut <= 0:
        raise AnnotationError(f"{where}: sequence name {name!r} is not <class>-<number> (e.g. airplane-1)")
    return name[:cut]


def _sort_key(name: str) -> tuple[str, int, str]:
    suffix = name[name.rfind("-") + 1 :]
    return class_of(name), int(suffix) if suffix.isdigit() else -1, name


@TRAIN_DATASETS.register("lasot")
class Lasot(IndexedVideoDataset):
    """LaSOT training protocol. Args: ``root`` plus the shared ``frame_store``, ``lmdb_dir``,
    ``cache``, ``cache_dir`` (see IndexedVideoDataset)."""

    name = "lasot"
    paths_key = "lasot"

    def __init__(
        self,
        root: str | Path | None = None,
        frame_store: str | FrameStore = "file",
        lmdb_dir: str | Path | None = None,
        cache: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        super().__init__(root, frame_store, lmdb_dir, cache, cache_dir)

    def _list_files(self) -> list[Path]:
        class_dirs = sorted(p for p in self.root.iterdir() if p.is_dir())
        return [self.root / "training_set.txt", self.root / "testing_set.txt", self.root, *class_dirs]

    def _sequence_names(self) -> list[str]:
        train_list, test_list = self.root / "training_set.txt", self.root / "testing_set.txt"
        if train_list.is_file():
            names = read_sequence_list(train_list)
            for name in names:
                class_of(name, str(train_list))
            return names
        found = sorted((p.parent.name for p in self.root.glob("*/*-*/groundtruth.txt")), key=_sort_key)
        if test_list.is_file():
            test = set(read_name_list(test_list))
            return [n for n in found if n not in test]
        logger.warning("%s has neither training_set.txt nor testing_set.txt: using all %d sequences", self.root, len(found))
        return found

    def _build_index(self) -> SequenceIndex:
        names = self._sequence_names()
        bboxes, visibles = [], []
        for name in names:
            folder = self.root / class_of(name) / name
            bbox = read_table(folder / "groundtruth.txt", 4)
            hidden = np.zeros(len(bbox), bool)
            for flag_file in ("full_occlusion.txt", "out_of_view.txt"):
                path = folder / flag_file
                hidden |= check_length(read_flags(path), len(bbox), path) > 0
            bboxes.append(bbox)
            visibles.append(~hidden)
        return SequenceIndex.from_sequences(names, {"bbox": bboxes, "visible": visibles})

    def _frame_path(self, row: int, frame_id: int) -> str:
        name = self.index.names[row]
        return f"{class_of(name)}/{name}/img/{frame_id + 1:08d}.jpg"

    def _sequence_meta(self, row: int) -> dict[str, Any]:
        name = self.index.names[row]
        return {"sequence": name, "object_class_name": class_of(name)}
