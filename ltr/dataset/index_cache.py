"""Sequence indexes of training datasets and their on-disk cache.

Building an index means reading every annotation file of a dataset (GOT-10k: ~37,000 small
files; YouTube-VOS: every mask PNG), which takes seconds to minutes. The index is therefore
cached in the workspace cache folder (never inside the dataset folder):

* one file per (dataset, root, build parameters): ``<cache>/dataset_index/<name>-<hash>.npz``;
* the file stores a *key*: the index format version plus a fingerprint ``(path, size,
  mtime_ns)`` of the dataset's list files. A different key (a list file was edited,
  replaced or removed) means a miss, and the index is rebuilt and the file overwritten;
* the format is an uncompressed ``.npz`` of plain arrays plus one JSON document stored as a
  ``uint8`` array, read with ``allow_pickle=False``: no pickle anywhere;
* only list files are fingerprinted (opening GOT-10k must not stat 37,000 files), so an
  annotation file edited in place is not noticed: delete ``<cache>/dataset_index/`` (or
  open the dataset with ``cache=False``, which neither reads nor writes the cache);
* writes go through :mod:`ltr.admin.atomic`, so concurrent workers or a crash never leave
  a partial file. An unreadable cache file is treated as a miss.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ltr.admin.atomic import atomic_write_with

logger = logging.getLogger(__name__)

INDEX_FORMAT_VERSION = 2
"""2: indexes are validated (labels, names, masks) and COCO's hold ``has_mask`` and image sizes."""
_JSON_KEY = "__json__"
_FRAME_PREFIX = "frame__"
_SEQ_PREFIX = "seq__"


@dataclass
class SequenceIndex:
    """Everything a dataset needs without touching its annotation files.

    Per-frame arrays of all sequences are concatenated; sequence ``i`` owns rows
    ``offsets[i]:offsets[i + 1]``. ``seq_arrays`` hold one row per sequence, ``seq_meta`` an
    optional JSON-able dict per sequence, and ``info`` JSON-able dataset-level facts.
    """

    names: list[str]
    offsets: np.ndarray
    frame_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    seq_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    seq_meta: list[dict[str, Any]] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sequences(
        cls,
        names: list[str],
        frame_arrays: dict[str, list[np.ndarray]],
        seq_arrays: dict[str, np.ndarray] | None = None,
        seq_meta: list[dict[str, Any]] | None = None,
        info: dict[str, Any] | None = None,
    ) -> SequenceIndex:
        """Concatenate per-sequence arrays (every key must have one array per name)."""
        lengths = [len(a) for a in next(iter(frame_arrays.values()))] if frame_arrays else [0] * len(names)
        offsets = np.zeros(len(names) + 1, np.int64)
        offsets[1:] = np.cumsum(lengths)
        joined = {}
        for key, arrays in frame_arrays.items():
            if [len(a) for a in arrays] != lengths:
                raise ValueError(f"index array '{key}' has sequence lengths that differ from the others")
            joined[key] = np.concatenate(arrays) if arrays else np.zeros((0,))
        return cls(names, offsets, joined, dict(seq_arrays or {}), seq_meta, dict(info or {}))

    def __len__(self) -> int:
        return len(self.names)

    def num_frames(self, i: int) -> int:
        return int(self.offsets[i + 1] - self.offsets[i])

    def frame_array(self, key: str, i: int) -> np.ndarray:
        """Rows of per-frame array ``key`` that belong to sequence ``i`` (a view)."""
        return self.frame_arrays[key][self.offsets[i] : self.offsets[i + 1]]

    def save(self, path: Path) -> None:
        """Write atomically as ``.npz`` (plain arrays + one JSON document)."""
        doc = {"names": self.names, "seq_meta": self.seq_meta, "info": self.info}
        arrays = {"offsets": self.offsets, _JSON_KEY: np.frombuffer(json.dumps(doc).encode(), np.uint8)}
        arrays.update({_FRAME_PREFIX + k: v for k, v in self.frame_arrays.items()})
        arrays.update({_SEQ_PREFIX + k: v for k, v in self.seq_arrays.items()})
        atomic_write_with(path, lambda handle: np.savez(handle, **arrays))

    @classmethod
    def load(cls, path: Path) -> SequenceIndex:
        """Read an index written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            doc = json.loads(data[_JSON_KEY].tobytes().decode())
            frame = {k[len(_FRAME_PREFIX):]: data[k] for k in data.files if k.startswith(_FRAME_PREFIX)}
            seq = {k[len(_SEQ_PREFIX):]: data[k] for k in data.files if k.startswith(_SEQ_PREFIX)}
            return cls(doc["names"], data["offsets"], frame, seq, doc["seq_meta"], doc["info"])


def fingerprint(files: Iterable[Path]) -> list[list[Any]]:
    """``[path, size, mtime_ns]`` per file or folder; a missing one is recorded as ``-1, -1``."""
    out = []
    for path in files:
        try:
            st = os.stat(path)
            out.append([str(path), st.st_size, st.st_mtime_ns])
        except FileNotFoundError:
            out.append([str(path), -1, -1])
    return out


def _digest(obj: Any) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


class IndexCache:
    """Loads dataset indexes from ``<cache_dir>/dataset_index`` or builds and stores them."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = Path(cache_dir) / "dataset_index"

    def path_for(self, dataset: str, root: Path, params: dict[str, Any]) -> Path:
        """The cache file of one dataset root and parameter set."""
        ident = _digest({"root": str(Path(root).resolve()), "params": params})[:16]
        return self.folder / f"{dataset}-{ident}.npz"

    def load_or_build(
        self,
        dataset: str,
        root: Path,
        list_files: Iterable[Path],
        build: Callable[[], SequenceIndex],
        params: dict[str, Any] | None = None,
    ) -> tuple[SequenceIndex, bool]:
        """The cached index when its key matches, else ``build()`` stored atomically.

        Returns ``(index, hit)``; ``hit`` is False when the index was (re)built.
        """
        params = dict(params or {})
        path = self.path_for(dataset, root, params)
        key = {
            "version": INDEX_FORMAT_VERSION,
            "dataset": dataset,
            "root": str(Path(root).resolve()),
            "params": params,
            "files": fingerprint(list_files),
        }
        key_digest = _digest(key)
        if path.is_file():
            try:
                index = SequenceIndex.load(path)
                if index.info.get("cache_key") == key_digest:
                    logger.debug("%s index: cache hit %s", dataset, path)
                    return index, True
                logger.info("%s index: list files changed, rebuilding %s", dataset, path)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
                logger.warning("%s index: unreadable cache file %s (%s); rebuilding", dataset, path, err)
        index = build()
        index.info["cache_key"] = key_digest
        index.save(path)
        return index, False
