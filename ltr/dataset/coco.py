"""COCO 2017 instances as one-frame "sequences" (ltr's MSCOCOSeq), with instance masks.

Layout (specs/formats.md): ``annotations/instances_<split>2017.json`` and images in
``<split>2017/`` (official) or ``images/<split>2017/`` (pytracking's layout); both work.
Every annotation with ``iscrowd == 0`` and a box with ``w > 0`` and ``h > 0`` is a sequence,
in annotation-file order. Masks come from pycocotools' ``annToMask`` (polygons and RLE); the
annotation JSON is loaded for them only when a mask is first asked for (the cached index
holds boxes, classes and file names).
"""
from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ltr.admin.paths import MissingPathError
from ltr.dataset.base import TRAIN_DATASETS
from ltr.dataset.frame_store import FrameStore
from ltr.dataset.index_cache import SequenceIndex
from ltr.dataset.indexed import IndexedVideoDataset


def load_coco(annotation_file: Path) -> Any:
    """A ``pycocotools.coco.COCO`` for ``annotation_file`` (its progress prints silenced)."""
    from pycocotools.coco import COCO

    if not annotation_file.is_file():
        raise MissingPathError(f"COCO: annotation file {annotation_file} not found")
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(annotation_file))


@TRAIN_DATASETS.register("coco")
class MSCOCOSeq(IndexedVideoDataset):
    """COCO instances. Args: ``root``, ``split`` (``train``/``val``), ``version`` (``2017``) plus the
    shared ``frame_store``, ``lmdb_dir``, ``cache``, ``cache_dir`` (see IndexedVideoDataset)."""

    name = "coco"
    paths_key = "coco"

    def __init__(
        self,
        root: str | Path | None = None,
        split: str = "train",
        version: str = "2017",
        frame_store: str | FrameStore = "file",
        lmdb_dir: str | Path | None = None,
        cache: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.split, self.version = split, str(version)
        super().__init__(root, frame_store, lmdb_dir, cache, cache_dir)

    def is_video_sequence(self) -> bool:
        return False

    def has_masks(self) -> bool:
        return True

    @property
    def annotation_file(self) -> Path:
        return self.root / "annotations" / f"instances_{self.split}{self.version}.json"

    @cached_property
    def image_dir(self) -> str:
        """``<split><version>`` or ``images/<split><version>``, whichever exists under root."""
        candidates = (f"{self.split}{self.version}", f"images/{self.split}{self.version}")
        for folder in candidates:
            if (self.root / folder).is_dir():
                return folder
        raise MissingPathError(f"COCO: no image folder under {self.root}; expected {' or '.join(candidates)}")

    @cached_property
    def coco(self) -> Any:
        """The pycocotools COCO object (loaded on first use; used for masks)."""
        return load_coco(self.annotation_file)

    def _index_params(self) -> dict[str, Any]:
        return {"split": self.split, "version": self.version}

    def _list_files(self) -> list[Path]:
        return [self.annotation_file]

    def _build_index(self) -> SequenceIndex:
        coco = self.coco
        image_ids = sorted(coco.imgs)
        image_row = {img_id: i for i, img_id in enumerate(image_ids)}
        anns = [a for a in coco.anns.values() if not a.get("iscrowd", 0) and a["bbox"][2] > 0 and a["bbox"][3] > 0]
        categories = {str(c["id"]): [c["name"], c.get("supercategory")] for c in coco.cats.values()}
        boxes = np.array([a["bbox"] for a in anns], np.float32).reshape(-1, 4)
        seq_arrays = {
            "ann_id": np.array([a["id"] for a in anns], np.int64),
            "image_row": np.array([image_row[a["image_id"]] for a in anns], np.int64),
            "category_id": np.array([a["category_id"] for a in anns], np.int64),
        }
        info = {"file_names": [coco.imgs[i]["file_name"] for i in image_ids], "categories": categories}
        names = [str(a["id"]) for a in anns]
        return SequenceIndex(names, np.arange(len(anns) + 1, dtype=np.int64), {"bbox": boxes}, seq_arrays, None, info)

    def _frame_path(self, row: int, frame_id: int) -> str:
        return f"{self.image_dir}/{self.index.info['file_names'][self.index.seq_arrays['image_row'][row]]}"

    def _read_masks(self, row: int, frame_ids: Sequence[int]) -> list[np.ndarray]:
        ann = self.coco.anns[int(self.index.seq_arrays["ann_id"][row])]
        with warnings.catch_warnings():  # pycocotools 2.0.x trips a NumPy 2 copy-keyword deprecation
            warnings.simplefilter("ignore", DeprecationWarning)
            mask = self.coco.annToMask(ann).astype(np.uint8)
        return [mask.copy() for _ in frame_ids]

    def _sequence_meta(self, row: int) -> dict[str, Any]:
        name, supercategory = self.index.info["categories"][str(self.index.seq_arrays["category_id"][row])]
        return {
            "annotation_id": int(self.index.seq_arrays["ann_id"][row]),
            "object_class_name": name,
            "motion_class": None,
            "major_class": supercategory,
            "root_class": None,
            "motion_adverb": None,
        }
