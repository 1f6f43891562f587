"""Where datasets read their frames and masks from: plain files or a packed LMDB.

A dataset names every frame by its path relative to the dataset root (``train/GOT-10k_Train_
000001/00000001.jpg``) and asks its :class:`FrameStore` for the decoded image. The file store
reads that path; the LMDB store (:mod:`ltr.dataset.lmdb_store`) looks the same relative path
up as a key, so a dataset class works unchanged on either. Both raise
:class:`~ltr.data.image_io.ImageReadError` naming the frame for a missing or corrupt image;
nothing ever returns a blank stand-in.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from ltr.data import image_io
from ltr.dataset.text_io import AnnotationError

INDEX_MASK_MODES = ("P", "L")
"""PNG modes whose pixel values are object ids; a colour (RGB) mask has lost them."""


class FrameStore:
    """Reads frames (RGB ``uint8`` ``H x W x 3``) and masks (``uint8`` index planes) by relative path."""

    def read_image(self, rel_path: str) -> np.ndarray:
        raise NotImplementedError

    def read_mask(self, rel_path: str) -> np.ndarray:
        raise NotImplementedError

    def read_mask_bytes(self, rel_path: str) -> tuple[bytes, str]:
        """The encoded mask and the name its errors should give (path, or LMDB file and key)."""
        raise NotImplementedError

    def read_index_mask(self, rel_path: str) -> np.ndarray:
        """The object-id plane of a palette (P) or grayscale (L) mask; any other mode raises
        AnnotationError naming the file, since decoding it would merge every object into one."""
        data, name = self.read_mask_bytes(rel_path)
        plane = image_io.mask_decode(data, name)
        with Image.open(io.BytesIO(data)) as img:
            mode = img.mode
        if mode not in INDEX_MASK_MODES:
            raise AnnotationError(
                f"{name}: a mask in mode {mode}; object masks must be palette (P) or grayscale (L) images whose "
                f"pixel values are object ids (a colour conversion loses them: re-export the original PNGs)"
            )
        return plane


class FileFrameStore(FrameStore):
    """Frames are the files under ``root`` (the default)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def read_image(self, rel_path: str) -> np.ndarray:
        return image_io.imread(self.root / rel_path)

    def read_mask(self, rel_path: str) -> np.ndarray:
        return image_io.read_mask(self.root / rel_path)

    def read_mask_bytes(self, rel_path: str) -> tuple[bytes, str]:
        path = self.root / rel_path
        try:
            return path.read_bytes(), str(path)
        except OSError as err:
            raise image_io.ImageReadError(f"{path}: cannot read ({err.strerror})") from None


def lmdb_name(root: Path) -> str:
    """File name of the LMDB packed from dataset folder ``root`` (folder name + path hash)."""
    root = Path(root).resolve()
    return f"{root.name}-{hashlib.sha1(str(root).encode()).hexdigest()[:10]}.lmdb"


def relative_key(rel_path: str | PurePosixPath) -> bytes:
    """LMDB key of a frame: its POSIX path relative to the dataset root, UTF-8."""
    return str(PurePosixPath(rel_path)).encode("utf-8")


def open_frame_store(kind: str | FrameStore, root: Path, lmdb_dir: Path | None = None) -> FrameStore:
    """The store a dataset reads from: ``'file'`` (default), ``'lmdb'`` or a ready store.

    ``'lmdb'`` opens ``<lmdb_dir>/<lmdb_name(root)>``; ``lmdb_dir`` defaults to the
    workspace's ``lmdb`` folder, where ``python -m ltr.dataset.build_lmdb`` writes.
    """
    if isinstance(kind, FrameStore):
        return kind
    if kind == "file":
        return FileFrameStore(root)
    if kind == "lmdb":
        from ltr.dataset.lmdb_store import LmdbFrameStore, default_lmdb_dir

        folder = Path(lmdb_dir) if lmdb_dir is not None else default_lmdb_dir()
        return LmdbFrameStore(folder / lmdb_name(root), root)
    raise ValueError(f"unknown frame_store {kind!r}; use 'file', 'lmdb' or a FrameStore instance")
