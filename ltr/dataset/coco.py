"""COCO 2017 instances as one-frame "sequences" (ltr's MSCOCOSeq), with instance masks.

Layout (specs/formats.md): ``annotations/instances_<split>2017.json`` and images in
``<split>2017/`` (official) or ``images/<split>2017/`` (pytracking's layout); both work.
Every annotation with ``iscrowd == 0`` and a box with ``w > 0`` and ``h > 0`` is a sequence,
in annotation-file order. Masks come from pycocotools' ``annToMask`` (polygons and RLE); the
annotation JSON is loaded for them only when a mask is first asked for (the cached index
holds boxes, classes, file names and image sizes).

Every kept annotation is checked when the index is built, and a bad one is an AnnotationError
naming the annotation file and the annotation id: a repeated id, a ``bbox`` that is not four
finite numbers, an ``image_id`` or ``category_id`` that the file does not define, an image
whose ``file_name`` leaves the image folder or whose ``width``/``height`` are not positive
integers, a polygon that is not an even number (>= 6) of finite coordinates, and an RLE whose
``size`` is not the image's or whose counts do not add up to ``height * width`` (pycocotools
would decode uninitialised memory or write past its buffer). An annotation with no
segmentation (the key missing, ``null`` or ``[]``, as in box-only COCO-format files) keeps its
box: the dataset then gives boxes only (:meth:`MSCOCOSeq.has_masks` is False, logged with the
first such ids), so box-only training uses every annotation and segmentation training refuses
the dataset instead of learning from empty masks. A frame whose decoded size differs from its
JSON ``width``/``height`` raises AnnotationError naming the image when it is read.
"""
from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ltr.admin.names import SequenceName, UnsafeNameError
from ltr.admin.paths import MissingPathError
from ltr.dataset.base import TRAIN_DATASETS
from ltr.dataset.frame_store import FrameStore
from ltr.dataset.index_cache import SequenceIndex
from ltr.dataset.indexed import IndexedVideoDataset
from ltr.dataset.text_io import AnnotationError

logger = logging.getLogger(__name__)


def load_coco(annotation_file: Path) -> Any:
    """A ``pycocotools.coco.COCO`` for ``annotation_file`` (its progress prints silenced); a file
    pycocotools cannot index raises AnnotationError naming it."""
    from pycocotools.coco import COCO

    if not annotation_file.is_file():
        raise MissingPathError(f"COCO: annotation file {annotation_file} not found")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return COCO(str(annotation_file))
    except (AssertionError, AttributeError, KeyError, TypeError, ValueError) as err:
        problem = f"missing key {err}" if isinstance(err, KeyError) else f"{type(err).__name__}: {err}"
        raise AnnotationError(f"{annotation_file}: not a COCO instances file ({problem})") from None


def _is_number(value: object) -> bool:
    """A finite JSON number (``true``/``false`` are not numbers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _bbox(ann: dict[str, Any], where: str) -> list[float]:
    """The annotation's ``[x, y, w, h]``, refused unless it is four finite numbers."""
    bbox = ann.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(_is_number(v) for v in bbox)):
        raise AnnotationError(f"{where}: bbox {bbox!r} is not four finite numbers [x, y, w, h]")
    return bbox


def _image_entry(img: dict[str, Any], where: str) -> tuple[str, int, int]:
    """``(file_name, height, width)`` of an image entry; the name must stay inside the image folder."""
    height, width, file_name = img.get("height"), img.get("width"), img.get("file_name")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (height, width)):
        raise AnnotationError(f"{where}: width {width!r} and height {height!r} are not positive integers")
    if not isinstance(file_name, str):
        raise AnnotationError(f"{where}: file_name {file_name!r} is not text")
    try:
        for part in file_name.split("/"):
            SequenceName(part, where)
    except UnsafeNameError:
        raise AnnotationError(f"{where}: file_name {file_name!r} is not a relative path inside the image folder") from None
    return file_name, height, width


def _compressed_counts(counts: str) -> list[int]:
    """The run lengths of a compressed RLE string (pycocotools' ``rleFrString``, in Python);
    ValueError when the string ends inside a run."""
    runs: list[int] = []
    position = 0
    while position < len(counts):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(counts):
                raise ValueError("compressed RLE counts end in the middle of a run")
            code = ord(counts[position]) - 48
            value |= (code & 0x1F) << shift
            more = bool(code & 0x20)
            position, shift = position + 1, shift + 5
            if not more and code & 0x10:
                value |= -1 << shift
        runs.append(value + runs[-2] if len(runs) > 2 else value)
    return runs


def _rle_problem(segmentation: dict[str, Any], height: int, width: int) -> str:
    """Why an RLE segmentation cannot be decoded into this image's mask; empty when it can."""
    size, counts = segmentation.get("size"), segmentation.get("counts")
    if size != [height, width]:
        return f"RLE size {size!r} is not the image's [height, width] [{height}, {width}]"
    if isinstance(counts, str):
        try:
            runs = _compressed_counts(counts)
        except ValueError as err:
            return str(err)
    elif isinstance(counts, list) and all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
        runs = counts
    else:
        return "RLE counts are neither a list of integers nor a compressed string"
    if any(r < 0 for r in runs):
        return "RLE counts hold a negative run length"
    if sum(runs) != height * width:
        return f"RLE counts add up to {sum(runs)}, not height * width = {height * width}"
    return ""


def _polygon_problem(polygons: list[Any]) -> str:
    """Why a polygon segmentation cannot be rasterised; empty when it can."""
    for polygon in polygons:
        try:
            coords = np.asarray(polygon, dtype=np.float64)
        except (TypeError, ValueError):
            coords = None
        if coords is None or coords.ndim != 1 or coords.size < 6 or coords.size % 2 or not np.isfinite(coords).all():
            return f"polygon {str(polygon)[:60]} is not an even number (>= 6) of finite coordinates"
    return ""


def _has_segmentation(ann: dict[str, Any], height: int, width: int, where: str) -> bool:
    """Whether the annotation has a mask (False for a missing, null or empty segmentation);
    a malformed polygon or RLE raises AnnotationError."""
    segmentation = ann.get("segmentation")
    if segmentation is None or segmentation == []:
        return False
    if isinstance(segmentation, list):
        problem = _polygon_problem(segmentation)
    elif isinstance(segmentation, dict):
        problem = _rle_problem(segmentation, height, width)
    else:
        problem = f"segmentation is a {type(segmentation).__name__}, neither polygons nor RLE"
    if problem:
        raise AnnotationError(f"{where}: {problem}")
    return True


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
        self._warn_box_only()

    def is_video_sequence(self) -> bool:
        return False

    def has_masks(self) -> bool:
        """True only when every annotation has a segmentation (see the module docstring)."""
        return bool(self.index.seq_arrays["has_mask"].all())

    def _warn_box_only(self) -> None:
        """Log that annotations without a segmentation make this a box-only dataset, naming some."""
        without = self.index.seq_arrays["ann_id"][~self.index.seq_arrays["has_mask"]]
        if len(without):
            logger.warning("%s: %d annotation(s) have no segmentation (ids %s): COCO gives boxes only, and "
                           "segmentation training refuses it", self.annotation_file, len(without),
                           ", ".join(str(i) for i in without[:5]))

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
        coco, path = self.coco, self.annotation_file
        anns, has_mask, image_rows, images = [], [], {}, []
        for ann in coco.dataset.get("annotations", []):
            where = f"{path}: annotation {ann['id']}"
            if coco.anns[ann["id"]] is not ann:
                raise AnnotationError(f"{where}: the id is used by more than one annotation")
            if ann.get("iscrowd", 0):
                continue
            _, _, w, h = _bbox(ann, where)
            if not (w > 0 and h > 0):
                continue
            if ann.get("image_id") not in coco.imgs:
                raise AnnotationError(f"{where}: image_id {ann.get('image_id')!r} is not in 'images'")
            if ann.get("category_id") not in coco.cats:
                raise AnnotationError(f"{where}: category_id {ann.get('category_id')!r} is not in 'categories'")
            if ann["image_id"] not in image_rows:
                image_rows[ann["image_id"]] = len(images)
                images.append(_image_entry(coco.imgs[ann["image_id"]], f"{path}: image {ann['image_id']}"))
            _, height, width = images[image_rows[ann["image_id"]]]
            anns.append(ann)
            has_mask.append(_has_segmentation(ann, height, width, where))
        categories = {str(c["id"]): [c.get("name"), c.get("supercategory")] for c in coco.cats.values()}
        boxes = np.array([a["bbox"] for a in anns], np.float32).reshape(-1, 4)
        seq_arrays = {
            "ann_id": np.array([a["id"] for a in anns], np.int64),
            "image_row": np.array([image_rows[a["image_id"]] for a in anns], np.int64),
            "category_id": np.array([a["category_id"] for a in anns], np.int64),
            "has_mask": np.array(has_mask, bool),
        }
        info = {"file_names": [name for name, _, _ in images], "image_sizes": [[h, w] for _, h, w in images],
                "categories": categories}
        names = [str(a["id"]) for a in anns]
        return SequenceIndex(names, np.arange(len(anns) + 1, dtype=np.int64), {"bbox": boxes}, seq_arrays, None, info)

    def _frame_path(self, row: int, frame_id: int) -> str:
        return f"{self.image_dir}/{self.index.info['file_names'][self.index.seq_arrays['image_row'][row]]}"

    def get_frames(
        self, seq_id: int, frame_ids: Sequence[int], anno: dict[str, Any] | None = None
    ) -> tuple[list[np.ndarray], dict[str, list], dict[str, Any]]:
        frames, frame_anno, meta = super().get_frames(seq_id, frame_ids, anno)
        image_row = int(self.index.seq_arrays["image_row"][self._rows[seq_id]])
        stated = tuple(self.index.info["image_sizes"][image_row])
        if frames and frames[0].shape[:2] != stated:
            raise AnnotationError(
                f"{self.annotation_file}: image {self.index.info['file_names'][image_row]} is "
                f"{frames[0].shape[1]}x{frames[0].shape[0]} but the file states {stated[1]}x{stated[0]} (width x height)"
            )
        return frames, frame_anno, meta

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
