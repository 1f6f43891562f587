"""GOT-10k training set (``train/``: 9,335 sequences) with the splits pytracking recipes use.

Layout (specs/formats.md): ``train/list.txt``, ``train/<seq>/{00000001.jpg, groundtruth.txt,
absence.label, cover.label, meta_info.ini}``. ``root`` may be the GOT-10k folder or its
``train/`` folder.

Splits:
* ``train``: every sequence of ``list.txt``.
* ``train_split`` / ``val_split``: a deterministic split of ``train``. A sequence goes to
  ``val_split`` when ``int(sha1(name), 16) % 100 < 15`` (~15 %, as in pytracking), which
  depends on the name only, so it is stable across machines and list orders. These are *not*
  pytracking's ``got10k_train_split.txt`` / ``got10k_val_split.txt`` lists.
* ``vottrain`` / ``votval``: GOT-10k without the sequences that overlap VOT (7,086 / 1,249
  sequences), read from the shipped ``ltr/dataset/data/got10k_vot_{train,val}_split.txt``,
  pytracking's lists as published (see ``ltr/dataset/data/README.md``).
* ``split_file=``: any list file, one sequence name or 0-based ``list.txt`` position per line
  (pytracking's format), overrides ``split``.

Visibility: visible = not absent and cover > 0; visible_ratio = cover / 8.
"""
from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ltr.dataset.base import TRAIN_DATASETS
from ltr.dataset.frame_store import FrameStore
from ltr.dataset.index_cache import SequenceIndex
from ltr.dataset.indexed import IndexedVideoDataset
from ltr.dataset.text_io import check_length, read_flags, read_name_list, read_sequence_list, read_table, read_text

DATA_DIR = Path(__file__).parent / "data"
SPLIT_FILES = {"vottrain": DATA_DIR / "got10k_vot_train_split.txt", "votval": DATA_DIR / "got10k_vot_val_split.txt"}
SPLITS = ("train", "train_split", "val_split", *SPLIT_FILES)
VAL_PERCENT = 15
MAX_COVER = 8
"""``cover.label`` holds the visible fraction in eighths: 0..8."""
# meta_info.ini keys in file order from line 5 on, and the names pytracking's meta uses
_META_FIELDS = (
    ("object_class", "object_class_name"),
    ("motion_class", "motion_class"),
    ("major_class", "major_class"),
    ("root_class", "root_class"),
    ("motion_adverb", "motion_adverb"),
)


def in_val_split(name: str) -> bool:
    """The deterministic ``val_split`` rule: sha1 of the sequence name modulo 100 below 15."""
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 100 < VAL_PERCENT


def read_meta_info(path: Path) -> dict[str, str | None]:
    """Class and motion fields of ``meta_info.ini`` (None when the file or a field is missing).

    Fields are found by key (``object_class: ...``); a line without a recognisable key falls
    back to ltr's positional reading (lines 5-9), so a file with odd keys still parses.
    """
    meta: dict[str, str | None] = {field: None for _, field in _META_FIELDS}
    if not path.is_file():
        return meta
    lines = read_text(path).splitlines()
    by_key = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep:
            by_key[key.strip()] = value.strip()
    for position, (ini_key, field) in enumerate(_META_FIELDS, start=5):
        value = by_key.get(ini_key)
        if value is None and position < len(lines) and ": " in lines[position]:
            value = lines[position].split(": ")[-1].strip()
        meta[field] = value or None
    return meta


def read_split_file(path: Path, names: list[str]) -> list[str]:
    """Sequence names of a split file holding names or 0-based positions in ``names``."""
    entries = read_name_list(path)
    out = []
    for lineno, entry in enumerate(entries, start=1):
        if entry.isdigit():
            if int(entry) >= len(names):
                raise ValueError(f"{path}:{lineno}: position {entry} but list.txt has {len(names)} sequences")
            out.append(names[int(entry)])
        else:
            out.append(entry)
    return out


def _read_sequence(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, str | None]]:
    gt_path = folder / "groundtruth.txt"
    bbox = read_table(gt_path, 4)
    n = len(bbox)
    absence_path, cover_path = folder / "absence.label", folder / "cover.label"
    absent = check_length(read_flags(absence_path), n, absence_path) if absence_path.is_file() else np.zeros(n, np.int32)
    if cover_path.is_file():
        cover = check_length(read_flags(cover_path, MAX_COVER), n, cover_path)
    else:
        cover = np.full(n, MAX_COVER, np.int32)
    visible = (absent == 0) & (cover > 0)
    return bbox, visible, (cover / MAX_COVER).astype(np.float32), read_meta_info(folder / "meta_info.ini")


@TRAIN_DATASETS.register("got10k")
class GOT10k(IndexedVideoDataset):
    """GOT-10k train. Args: ``root``, ``split`` (one of :data:`SPLITS`), ``split_file``, plus the
    shared ``frame_store``, ``lmdb_dir``, ``cache``, ``cache_dir`` (see IndexedVideoDataset)."""

    name = "got10k"
    paths_key = "got10k"

    def __init__(
        self,
        root: str | Path | None = None,
        split: str = "train",
        split_file: str | Path | None = None,
        frame_store: str | FrameStore = "file",
        lmdb_dir: str | Path | None = None,
        cache: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown GOT-10k split {split!r}; use one of {', '.join(SPLITS)} or split_file=")
        super().__init__(root, frame_store, lmdb_dir, cache, cache_dir)
        self.split = split
        names = self.index.names
        if split_file is not None:
            self._select(read_split_file(Path(split_file), names), str(split_file))
        elif split in SPLIT_FILES:
            path = SPLIT_FILES[split]
            if not path.is_file():
                raise FileNotFoundError(
                    f"GOT-10k split '{split}' needs {path}, which is missing from this install "
                    f"(see {DATA_DIR / 'README.md'}), "
                    f"or pass split_file=<list of sequence names or list.txt positions>"
                )
            self._select(read_split_file(path, names), str(path))
        elif split != "train":
            self._select([n for n in names if in_val_split(n) == (split == "val_split")], f"split {split}")

    @cached_property
    def _prefix(self) -> str:
        """``'train/'`` when root is the GOT-10k folder, ``''`` when it is ``train/`` itself."""
        return "train/" if (self.root / "train" / "list.txt").is_file() else ""

    def _list_files(self) -> list[Path]:
        train = self.root / self._prefix
        return [train / "list.txt", train]

    def _build_index(self) -> SequenceIndex:
        train = self.root / self._prefix
        names = read_sequence_list(train / "list.txt")
        columns: dict[str, list[np.ndarray]] = {"bbox": [], "visible": [], "visible_ratio": []}
        metas = []
        for name in names:
            bbox, visible, ratio, meta = _read_sequence(train / name)
            columns["bbox"].append(bbox)
            columns["visible"].append(visible)
            columns["visible_ratio"].append(ratio)
            metas.append(meta)
        return SequenceIndex.from_sequences(names, columns, seq_meta=metas)

    def _frame_path(self, row: int, frame_id: int) -> str:
        return f"{self._prefix}{self.index.names[row]}/{frame_id + 1:08d}.jpg"

    def _sequence_meta(self, row: int) -> dict[str, Any]:
        return {"sequence": self.index.names[row], **super()._sequence_meta(row)}
