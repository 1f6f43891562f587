"""YouTube-VOS 2018 training videos as per-object sequences with masks (pytracking style).

Layout (specs/formats.md): ``train/JPEGImages/<video>/00000.jpg 00005.jpg ...``,
``train/Annotations/<video>/00000.png ...`` (8-bit palette PNGs whose pixel values are object
ids; read as indices, never through an RGB decoder), ``train/meta.json`` (object ids are
strings), and optionally ``train_all_frames/JPEGImages/`` with every source frame.

Each object of each video is one sequence over the frames where meta.json says it is
annotated (frame numbers advance by 5). Boxes are derived from the masks when the index is
built (``x, y`` = first foreground column/row, ``w, h`` = extent in pixels); a frame whose
mask is empty gets an invalid zero box. With ``all_frames=True`` a sequence spans every
source frame from the object's first to its last annotated frame, read from
``<split>_all_frames/``; frames between annotations have no box (NaN, ``valid`` False) and
asking for their mask raises ValueError.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ltr.admin.names import SequenceName, UnsafeNameError
from ltr.dataset.base import TRAIN_DATASETS
from ltr.dataset.frame_store import FrameStore
from ltr.dataset.index_cache import SequenceIndex
from ltr.dataset.indexed import IndexedVideoDataset
from ltr.dataset.text_io import AnnotationError, read_text

MAX_OBJECT_ID = 255
_FRAME_NAME = re.compile(r"[0-9]{5}")


def mask_box(mask: np.ndarray) -> np.ndarray:
    """``x, y, w, h`` (float32) of the foreground of a boolean mask; zeros when it is empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return np.zeros(4, np.float32)
    return np.array([cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1], np.float32)


def _object_id(obj_id: str, where: str) -> int:
    """An object id of meta.json as the mask value it names: ``"1"`` .. ``"255"`` (``0`` is background)."""
    number = int(obj_id) if obj_id.isascii() and obj_id.isdigit() else -1
    if not 1 <= number <= MAX_OBJECT_ID or str(number) != obj_id:
        raise AnnotationError(f"{where}: object id {obj_id!r} is not a mask value 1..{MAX_OBJECT_ID}")
    return number


def _frame_numbers(frames: object, where: str) -> list[int]:
    """Sorted frame numbers of an object's ``frames`` list, each a five-digit file stem (``00005``)."""
    if not isinstance(frames, list):
        raise AnnotationError(f"{where}: 'frames' is a {type(frames).__name__}, expected a list of frame names")
    bad = [f for f in frames if not (isinstance(f, str) and _FRAME_NAME.fullmatch(f))]
    if bad:
        raise AnnotationError(f"{where}: frame names {bad[:3]} are not five-digit file stems like '00005'")
    return sorted(int(f) for f in frames)


def _video_objects(entry: object, where: str) -> dict[str, dict[str, Any]]:
    """``{object_id: {"category", "frames"}}`` of one video entry (objects without frames dropped)."""
    objects = entry.get("objects", {}) if isinstance(entry, dict) else None
    if not isinstance(objects, dict) or not all(isinstance(o, dict) for o in objects.values()):
        raise AnnotationError(f"{where}: expected {{'objects': {{id: {{'category': ..., 'frames': [...]}}}}}}")
    out = {}
    for obj_id in sorted(objects, key=lambda o: _object_id(o, where)):
        frames = _frame_numbers(objects[obj_id].get("frames", []), f"{where} object {obj_id}")
        if frames:
            out[obj_id] = {"category": objects[obj_id].get("category"), "frames": frames}
    return out


def read_meta(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """``{video: {object_id: {"category": str, "frames": [int, ...]}}}`` from ``meta.json``.

    Video names must be plain folder names (:class:`SequenceName`), object ids mask values
    1..255 and frame names five-digit stems; anything else raises AnnotationError naming the file.
    """
    try:
        videos = json.loads(read_text(path))["videos"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise AnnotationError(f"{path}: not a YouTube-VOS meta.json ({err})") from None
    if not isinstance(videos, dict):
        raise AnnotationError(f"{path}: 'videos' is a {type(videos).__name__}, expected a mapping of video name to its objects")
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for video in sorted(videos):
        try:
            SequenceName(video, str(path))
        except UnsafeNameError as err:
            raise AnnotationError(str(err)) from None
        out[video] = _video_objects(videos[video], f"{path}: video {video}")
    return out


@TRAIN_DATASETS.register("youtubevos")
class YouTubeVOS(IndexedVideoDataset):
    """YouTube-VOS 2018. Args: ``root`` (the folder holding ``train/``), ``split``, ``all_frames``
    plus the shared ``frame_store``, ``lmdb_dir``, ``cache``, ``cache_dir`` (see IndexedVideoDataset)."""

    name = "youtubevos"
    paths_key = "youtubevos"

    def __init__(
        self,
        root: str | Path | None = None,
        split: str = "train",
        all_frames: bool = False,
        frame_store: str | FrameStore = "file",
        lmdb_dir: str | Path | None = None,
        cache: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.split, self.all_frames = split, bool(all_frames)
        super().__init__(root, frame_store, lmdb_dir, cache, cache_dir)

    def has_masks(self) -> bool:
        return True

    def _index_params(self) -> dict[str, Any]:
        return {"split": self.split, "all_frames": self.all_frames}

    def _list_files(self) -> list[Path]:
        return [self.root / self.split / "meta.json", self.root / self.split / "Annotations"]

    def _build_index(self) -> SequenceIndex:
        meta = read_meta(self.root / self.split / "meta.json")
        names, boxes, numbers, annotated, seq_meta = [], [], [], [], []
        for video, objects in meta.items():
            frame_numbers = sorted({f for obj in objects.values() for f in obj["frames"]})
            video_boxes: dict[str, dict[int, np.ndarray]] = {obj_id: {} for obj_id in objects}
            for number in frame_numbers:
                plane = self.store.read_index_mask(self._mask_path(video, number))
                for obj_id, obj in objects.items():
                    if number in obj["frames"]:
                        video_boxes[obj_id][number] = mask_box(plane == int(obj_id))
            for obj_id, obj in objects.items():
                span = range(obj["frames"][0], obj["frames"][-1] + 1) if self.all_frames else obj["frames"]
                nan_box = np.full(4, np.nan, np.float32)
                names.append(f"{video}_{obj_id}")
                numbers.append(np.array(list(span), np.int32))
                boxes.append(np.stack([video_boxes[obj_id].get(n, nan_box) for n in span]))
                annotated.append(np.array([n in video_boxes[obj_id] for n in span], bool))
                seq_meta.append({"video": video, "object_id": obj_id, "object_class_name": obj["category"]})
        arrays = {"bbox": boxes, "frame_number": numbers, "annotated": annotated}
        return SequenceIndex.from_sequences(names, arrays, seq_meta=seq_meta)

    def _mask_path(self, video: str, number: int) -> str:
        return f"{self.split}/Annotations/{video}/{number:05d}.png"

    def _frame_path(self, row: int, frame_id: int) -> str:
        folder = f"{self.split}_all_frames" if self.all_frames else self.split
        number = int(self.index.frame_array("frame_number", row)[frame_id])
        return f"{folder}/JPEGImages/{self.index.seq_meta[row]['video']}/{number:05d}.jpg"

    def _read_masks(self, row: int, frame_ids: Sequence[int]) -> list[np.ndarray]:
        video, obj_id = self.index.seq_meta[row]["video"], int(self.index.seq_meta[row]["object_id"])
        numbers, annotated = self.index.frame_array("frame_number", row), self.index.frame_array("annotated", row)
        masks = []
        for f in frame_ids:
            if not annotated[f]:
                raise ValueError(
                    f"youtubevos {self.index.names[row]}: frame {int(numbers[f]):05d} has no mask "
                    f"(only every 5th frame is annotated); sample frames with valid=True"
                )
            masks.append((self.store.read_index_mask(self._mask_path(video, int(numbers[f]))) == obj_id).astype(np.uint8))
        return masks
