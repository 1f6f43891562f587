"""GOT-10k layout reader (also used for the built-in synthetic benchmark).

``<root>/<split>/list.txt`` names sequence folders holding ``00000001.jpg``..., ``groundtruth.txt``
and, on train/val, ``absence.label``, ``cover.label``, ``cut_by_image.label`` and
``meta_info.ini``. The test split gives only frame 1's box: later rows are NaN. Visibility is
``cover > 0`` (the GOT-10k evaluation's rule) or, without cover labels, ``absence == 0``.
Split ``train_holdout`` is a fixed list of training sequences (package data) kept out of training.
"""
from __future__ import annotations

import ast
import configparser
from pathlib import Path
from typing import Any

import numpy as np

from pytracking.evaluation.annotations import (
    AnnotationError,
    MissingFileError,
    check_length,
    image_size,
    nan_after_first,
    read_int_labels,
    read_name_list,
    read_table,
)
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.base import EvalDataset, package_data
from pytracking.evaluation.sequence import Sequence

LABEL_FILES = {"absence": 1, "cover": 8, "cut_by_image": 1}
"""GOT-10k's per-frame label files and their largest value (cover: visible ratio in eighths)."""


def train_holdout_names() -> list[str]:
    """The GOT-10k training sequences held out for evaluation (exclude them from training)."""
    return list(package_data("got10k_train_holdout.json")["sequences"])


def read_meta_info(path: Path) -> dict[str, Any]:
    """``meta_info.ini`` as a dict; ``resolution`` becomes a ``(W, H)`` tuple."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8-sig"), source=str(path))
        meta: dict[str, Any] = dict(parser["METAINFO"])
    except (configparser.Error, KeyError) as err:
        raise AnnotationError(f"{path}: malformed meta_info.ini ({err})") from None
    if "resolution" in meta:
        try:
            values = ast.literal_eval(meta["resolution"])
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            values = None
        if not isinstance(values, (tuple, list)) or len(values) != 2 or not all(isinstance(v, int) for v in values):
            raise AnnotationError(f"{path}: malformed resolution {meta['resolution']!r}; expected (width, height)")
        meta["resolution"] = image_size(*values, path)
    return meta


class Got10kLayout(EvalDataset):
    """Shared reader of the GOT-10k folder layout; subclasses set name, splits and the split folder."""

    first_box_only_splits: tuple[str, ...] = ()
    """Splits whose ``groundtruth.txt`` may hold frame 1's box alone (the rest is NaN)."""

    def _split_dir(self) -> Path:
        return self.root / self.split

    def _names(self) -> list[str]:
        return read_name_list(self._split_dir() / "list.txt")

    def _labels(self, folder: Path, frames: int) -> dict[str, np.ndarray]:
        labels = {}
        for key, largest in LABEL_FILES.items():
            path = folder / f"{key}.label"
            if path.is_file():
                labels[key] = read_int_labels(path)
                if len(labels[key]) != frames:
                    raise AnnotationError(f"{path}: {len(labels[key])} labels for {frames} frames")
                outside = (labels[key] < 0) | (labels[key] > largest)
                if outside.any():
                    row = int(np.flatnonzero(outside)[0])
                    raise AnnotationError(f"{path}: line {row + 1}: label {labels[key][row]} outside 0..{largest}")
        return labels

    def _load(self, name: str) -> Sequence:
        folder = self._split_dir() / name
        if not folder.is_dir():
            raise MissingFileError(f"{folder}: missing (sequence folder listed in {self._split_dir() / 'list.txt'})")
        anno = folder / "groundtruth.txt"
        gt = read_table(anno, columns=4)
        frames = self._frames(folder, len(gt) if len(gt) > 1 else None)
        if len(gt) == 1 and len(frames) > 1 and self.split in self.first_box_only_splits:
            gt = nan_after_first(gt, len(frames))
        check_length(gt, len(frames), anno)
        labels = self._labels(folder, len(frames))
        visible = labels["cover"] > 0 if "cover" in labels else (labels["absence"] == 0 if "absence" in labels else None)
        meta = read_meta_info(folder / "meta_info.ini") if (folder / "meta_info.ini").is_file() else {}
        extra: dict[str, Any] = {**labels, "meta": meta, "groundtruth_file": str(anno),
                                 "image_size_source": str(folder / "meta_info.ini")}
        if (folder / "masks").is_dir():
            extra["masks_dir"] = str(folder / "masks")
        return Sequence(name=name, dataset=self.name, frames=frames, ground_truth=gt, target_visible=visible,
                        attributes=self.sequence_attributes(name), object_class=meta.get("object_class"),
                        image_size=meta.get("resolution"), extra=extra)


@EVAL_DATASETS.register("got10k")
class GOT10k(Got10kLayout):
    """GOT-10k ``val`` (180), ``test`` (180, first-frame box only) or ``train_holdout``."""

    name = "got10k"
    paths_key = "got10k"
    splits = ("val", "test", "train_holdout")
    first_box_only_splits = ("test",)

    def _split_dir(self) -> Path:
        return self.root / ("train" if self.split == "train_holdout" else self.split)

    def _names(self) -> list[str]:
        names = super()._names()
        if self.split == "train_holdout":
            keep = set(train_holdout_names())
            names = [n for n in names if n in keep]
        return names
