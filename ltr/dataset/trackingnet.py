"""TrackingNet training chunks ``TRAIN_0`` ... ``TRAIN_11`` (about 2,511 sequences each).

Layout (specs/formats.md): ``TRAIN_<i>/anno/<seq>.txt`` and ``TRAIN_<i>/frames/<seq>/0.jpg,
1.jpg, ...``: frames are **0-based and unpadded**, so frame ``k`` is ``<k>.jpg`` (never a
lexicographic listing, where ``10.jpg`` sorts before ``9.jpg``). Annotation files may use
CRLF line ends and space-padded fields. TrackingNet has no visibility labels: a frame is
visible when its box is valid.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ltr.admin.paths import MissingPathError
from ltr.dataset.base import TRAIN_DATASETS
from ltr.dataset.frame_store import FrameStore
from ltr.dataset.index_cache import SequenceIndex
from ltr.dataset.indexed import IndexedVideoDataset
from ltr.dataset.text_io import read_table

NUM_TRAIN_SETS = 12


@TRAIN_DATASETS.register("trackingnet")
class TrackingNet(IndexedVideoDataset):
    """TrackingNet train. Args: ``root``, ``set_ids`` (chunk numbers, default all 0..11) plus the
    shared ``frame_store``, ``lmdb_dir``, ``cache``, ``cache_dir`` (see IndexedVideoDataset)."""

    name = "trackingnet"
    paths_key = "trackingnet"

    def __init__(
        self,
        root: str | Path | None = None,
        set_ids: Sequence[int] | None = None,
        frame_store: str | FrameStore = "file",
        lmdb_dir: str | Path | None = None,
        cache: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.set_ids = sorted(set(range(NUM_TRAIN_SETS) if set_ids is None else set_ids))
        bad = [i for i in self.set_ids if not 0 <= i < NUM_TRAIN_SETS]
        if bad:
            raise ValueError(f"TrackingNet set ids {bad} outside 0..{NUM_TRAIN_SETS - 1}")
        super().__init__(root, frame_store, lmdb_dir, cache, cache_dir)

    def _anno_dirs(self) -> list[Path]:
        dirs = [self.root / f"TRAIN_{i}" / "anno" for i in self.set_ids]
        missing = [str(d) for d in dirs if not d.is_dir()]
        if missing:
            raise MissingPathError(
                f"TrackingNet: missing {', '.join(missing)}; unpack those chunks or pass set_ids= "
                f"with the chunks you have"
            )
        return dirs

    def _index_params(self) -> dict[str, Any]:
        return {"set_ids": self.set_ids}

    def _list_files(self) -> list[Path]:
        return self._anno_dirs()

    def _build_index(self) -> SequenceIndex:
        names, bboxes, chunks = [], [], []
        for set_id, anno_dir in zip(self.set_ids, self._anno_dirs()):
            for path in sorted(anno_dir.glob("*.txt")):
                names.append(path.stem)
                bboxes.append(read_table(path, 4))
                chunks.append(set_id)
        return SequenceIndex.from_sequences(names, {"bbox": bboxes}, seq_arrays={"set_id": np.array(chunks, np.int16)})

    def _frame_path(self, row: int, frame_id: int) -> str:
        set_id = int(self.index.seq_arrays["set_id"][row])
        return f"TRAIN_{set_id}/frames/{self.index.names[row]}/{frame_id}.jpg"

    def _sequence_meta(self, row: int) -> dict[str, Any]:
        return {"sequence": self.index.names[row], "set_id": int(self.index.seq_arrays["set_id"][row])}
