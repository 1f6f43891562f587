"""Shared machinery of the real training datasets: root lookup, cached index, frame store.

A concrete dataset only says which files make up its index (:meth:`_list_files`), how to
build it (:meth:`_build_index`), and where frame ``k`` of a sequence lives
(:meth:`_frame_path`); this base answers the whole :class:`BaseVideoDataset` interface from
the in-memory :class:`SequenceIndex`, so no annotation file is touched after opening.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ltr.admin.paths import MissingPathError, Paths, load_paths
from ltr.dataset.base import BaseVideoDataset
from ltr.dataset.frame_store import FrameStore, open_frame_store
from ltr.dataset.index_cache import IndexCache, SequenceIndex
from ltr.dataset.text_io import AnnotationError


class IndexedVideoDataset(BaseVideoDataset):
    """A dataset answered from a cached :class:`SequenceIndex`; frames come from a :class:`FrameStore`.

    Args (shared by every subclass):
        root: dataset folder; ``None`` reads ``load_paths().dataset_root(<paths key>)``
            (MissingPathError names the key and how to set it).
        frame_store: ``'file'`` (default), ``'lmdb'`` (see ``ltr.dataset.build_lmdb``) or a store.
        lmdb_dir: folder holding packed LMDB files (default ``<workspace>/lmdb``).
        cache: read/write the index cache (``False`` always rebuilds and writes nothing).
        cache_dir: cache folder (default ``load_paths().cache``).
    """

    paths_key = "base"

    def __init__(
        self,
        root: str | Path | None,
        frame_store: str | FrameStore = "file",
        lmdb_dir: str | Path | None = None,
        cache: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.root = Path(root) if root is not None else self._paths.dataset_root(self.paths_key)
        if not self.root.is_dir():
            raise MissingPathError(f"{self.name}: dataset root {self.root} is not a folder")
        self.store = open_frame_store(frame_store, self.root, Path(lmdb_dir) if lmdb_dir is not None else None)
        if cache:
            folder = Path(cache_dir) if cache_dir is not None else self._paths.cache
            self.index, self.index_from_cache = IndexCache(folder).load_or_build(
                self.name, self.root, self._list_files(), self._build_index, self._index_params()
            )
        else:
            self.index, self.index_from_cache = self._build_index(), False
        self._require_sequences()
        self._rows = np.arange(len(self.index))

    def _require_sequences(self) -> None:
        """Refuse an index without sequences, naming where they are listed (sampling from it
        would fail later with an unrelated numpy error)."""
        if len(self.index) == 0:
            sources = ", ".join(str(p) for p in self._list_files()[:2])
            raise AnnotationError(f"{self.name}: no sequences found under {self.root} (listed by {sources})")

    @cached_property
    def _paths(self) -> Paths:
        return load_paths()

    # -- what subclasses provide -------------------------------------------------------------
    def _list_files(self) -> list[Path]:
        """Files and folders whose (size, mtime) key the cached index."""
        raise NotImplementedError

    def _index_params(self) -> dict[str, Any]:
        """Constructor arguments that change the index (they key the cache file)."""
        return {}

    def _build_index(self) -> SequenceIndex:
        """Read the annotation files into a :class:`SequenceIndex` (frame array ``bbox`` required)."""
        raise NotImplementedError

    def _frame_path(self, row: int, frame_id: int) -> str:
        """Path of a frame relative to :attr:`root`, as the frame store expects it."""
        raise NotImplementedError

    def _sequence_meta(self, row: int) -> dict[str, Any]:
        """Sequence-level facts returned as ``meta`` by :meth:`get_frames`."""
        return dict(self.index.seq_meta[row]) if self.index.seq_meta is not None else {}

    def _read_masks(self, row: int, frame_ids: Sequence[int]) -> list[np.ndarray]:
        raise NotImplementedError

    # -- selection ----------------------------------------------------------------------------
    def _select(self, names: Sequence[str], source: str) -> None:
        """Keep only sequences ``names`` (in that order); unknown names or none at all raise naming ``source``."""
        if not names:
            raise AnnotationError(f"{source}: selects no sequences of {self.name} at {self.root}")
        position = {name: i for i, name in enumerate(self.index.names)}
        missing = [n for n in names if n not in position]
        if missing:
            raise ValueError(
                f"{source}: {len(missing)} sequence(s) not found under {self.root}, "
                f"e.g. {', '.join(missing[:5])}"
            )
        self._rows = np.array([position[n] for n in names], dtype=np.int64)

    # -- BaseVideoDataset ---------------------------------------------------------------------
    def get_num_sequences(self) -> int:
        return len(self._rows)

    def get_sequence_name(self, seq_id: int) -> str:
        return self.index.names[self._rows[seq_id]]

    def get_num_frames(self, seq_id: int) -> int:
        return self.index.num_frames(self._rows[seq_id])

    def get_sequence_info(self, seq_id: int) -> dict[str, torch.Tensor]:
        row = self._rows[seq_id]
        bbox = torch.from_numpy(np.array(self.index.frame_array("bbox", row), dtype=np.float32))
        valid = torch.isfinite(bbox).all(dim=1) & (bbox[:, 2] > 0) & (bbox[:, 3] > 0)
        arrays = self.index.frame_arrays
        visible = torch.from_numpy(self.index.frame_array("visible", row).astype(bool)) if "visible" in arrays else valid
        visible = visible & valid
        if "visible_ratio" in arrays:
            ratio = torch.from_numpy(np.array(self.index.frame_array("visible_ratio", row), dtype=np.float32))
        else:
            ratio = visible.float()
        return {"bbox": bbox, "valid": valid, "visible": visible, "visible_ratio": ratio}

    def get_frames(
        self, seq_id: int, frame_ids: Sequence[int], anno: dict[str, Any] | None = None
    ) -> tuple[list[np.ndarray], dict[str, list], dict[str, Any]]:
        row = self._rows[seq_id]
        count = self.index.num_frames(row)
        bad = [f for f in frame_ids if not 0 <= f < count]
        if bad:
            raise IndexError(f"{self.name} sequence {self.index.names[row]}: frame ids {bad} outside 0..{count - 1}")
        frames = [self.store.read_image(self._frame_path(row, f)) for f in frame_ids]
        anno = self.get_sequence_info(seq_id) if anno is None else anno
        frame_anno: dict[str, list] = {key: [value[f, ...].clone() for f in frame_ids] for key, value in anno.items()}
        if self.has_masks():
            frame_anno["mask"] = self._read_masks(row, frame_ids)
        return frames, frame_anno, self._sequence_meta(row)
