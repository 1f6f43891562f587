"""A frame store packed into one LMDB file per dataset root (as STARK/OSTrack users run it).

Packing a dataset's JPEG/PNG files into a single memory-mapped file avoids millions of small
file opens on network or spinning disks. Keys are the files' POSIX paths relative to the
dataset root, values their undecoded bytes, so :class:`LmdbFrameStore` serves exactly the
paths a dataset asks the file store for, and decodes them with the same decoders.

:func:`pack_folder` builds the file atomically: it writes ``.<name>.<pid>.tmp`` beside the
target and renames it only after every file was stored and synced.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ltr.admin.paths import MissingPathError, load_paths
from ltr.data.image_io import ImageReadError
from ltr.data.image_io import imdecode, mask_decode
from ltr.dataset.frame_store import FrameStore, lmdb_name, relative_key

logger = logging.getLogger(__name__)

META_KEY = b"\x00meta"  # cannot collide with a relative path
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_COMMIT_EVERY = 1000


def _lmdb():
    try:
        import lmdb
    except ImportError:
        raise ImportError("the LMDB frame store needs the 'lmdb' package: pip install lmdb") from None
    return lmdb


def default_lmdb_dir() -> Path:
    """``<workspace>/lmdb``: where packed stores are written and looked up by default."""
    return load_paths().workspace / "lmdb"


_ENVS: dict[tuple[int, str, int], Any] = {}


def _open_env(path: Path) -> Any:
    """The read-only environment of ``path`` in this process.

    LMDB allows one open environment per file and process, and handles must not cross a
    fork, so environments are shared per (process id, file, inode: a rebuilt file is a new
    inode) and opened on first use.
    """
    resolved = str(path.resolve())
    key = (os.getpid(), resolved, os.stat(resolved).st_ino)
    if key not in _ENVS:
        _ENVS[key] = _lmdb().open(resolved, subdir=False, readonly=True, lock=False, readahead=False)
    return _ENVS[key]


class LmdbFrameStore(FrameStore):
    """Reads frames of the dataset at ``root`` from the LMDB file ``path`` (read-only, lock-free).

    The store holds only paths; the environment is opened lazily per process, so a dataset
    holding this store can be sent to DataLoader workers (fork or spawn).
    """

    def __init__(self, path: Path, root: Path) -> None:
        self.path, self.root = Path(path), Path(root)
        if not self.path.is_file():
            raise MissingPathError(
                f"no LMDB frame store for {self.root} at {self.path}; build it with "
                f"`python -m ltr.dataset.build_lmdb {self.root} --out {self.path.parent}`"
            )

    def _txn_get(self, key: bytes) -> bytes | None:
        with _open_env(self.path).begin(buffers=False) as txn:
            return txn.get(key)

    def _get(self, rel_path: str) -> tuple[bytes, str]:
        name = f"{self.path}::{rel_path}"
        data = self._txn_get(relative_key(rel_path))
        if data is None:
            raise ImageReadError(f"{name}: not in the LMDB packed from {self.root}")
        return data, name

    def read_image(self, rel_path: str) -> np.ndarray:
        return imdecode(*self._get(rel_path))

    def read_mask(self, rel_path: str) -> np.ndarray:
        return mask_decode(*self._get(rel_path))

    def read_mask_bytes(self, rel_path: str) -> tuple[bytes, str]:
        return self._get(rel_path)

    def meta(self) -> dict[str, Any]:
        """What :func:`pack_folder` recorded: source root, file count and bytes."""
        return json.loads(self._txn_get(META_KEY) or b"{}")


def image_files(root: Path) -> Iterator[Path]:
    """Image files under ``root`` in a stable order (hidden folders skipped)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(IMAGE_SUFFIXES):
                yield Path(folder) / name


def pack_folder(root: Path, out_dir: Path, progress: bool = False) -> Path:
    """Pack every image under ``root`` into ``<out_dir>/<lmdb_name(root)>`` atomically.

    Returns the path of the finished LMDB file. Nothing is written inside ``root``.
    """
    lmdb = _lmdb()
    root, out_dir = Path(root), Path(out_dir)
    files = list(image_files(root))
    if not files:
        raise FileNotFoundError(f"{root}: no image files to pack (an empty or wrong folder?)")
    total = sum(f.stat().st_size for f in files)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / lmdb_name(root)
    tmp = out_dir / f".{final.name}.{os.getpid()}.tmp"
    # keys, B-tree pages and per-entry overhead on top of the raw bytes
    map_size = int(total * 1.25) + 4096 * len(files) + (64 << 20)
    env = lmdb.open(str(tmp), subdir=False, map_size=map_size, lock=False, sync=False, metasync=False)
    try:
        iterator = files
        if progress:
            from tqdm import tqdm

            iterator = tqdm(files, desc=f"packing {root.name}", unit="file")
        txn = env.begin(write=True)
        for i, path in enumerate(iterator, start=1):
            txn.put(relative_key(path.relative_to(root).as_posix()), path.read_bytes())
            if i % _COMMIT_EVERY == 0:
                txn.commit()
                txn = env.begin(write=True)
        meta = {"root": str(root.resolve()), "files": len(files), "bytes": total}
        txn.put(META_KEY, json.dumps(meta).encode())
        txn.commit()
        env.sync(True)
    except BaseException:
        env.close()
        tmp.unlink(missing_ok=True)
        raise
    env.close()
    os.replace(tmp, final)
    logger.info("packed %d files (%.1f MB) from %s into %s", len(files), total / 1e6, root, final)
    return final
