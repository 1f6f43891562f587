"""NfS (Need for Speed) on the official layout: ``<seq>/<fps>/<seq>/%05d.jpg`` and ``<seq>/<fps>/<seq>.txt``.

Annotation lines are VATIC exports, ``track_id xmin ymin xmax ymax frame lost occluded generated
"label"``, one per **240 fps** frame, also in the 30 fps folder: there every 8th row is taken
when the file is about 8 times longer than the frame list (got10k's rule). Corners become
``x, y, w = xmax - xmin, h = ymax - ymin``. When annotation and frames differ by one (10 known
sequences), both are trimmed to the shorter; a larger difference is an error.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pytracking.evaluation.annotations import (
    AnnotationError,
    MissingFileError,
    parse_numbers,
    read_lines,
)
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.base import EvalDataset
from pytracking.evaluation.sequence import Sequence

_NUMERIC_FIELDS = 9  # track_id xmin ymin xmax ymax frame lost occluded generated


def read_vatic(path: Path) -> np.ndarray:
    """The numeric columns of a VATIC annotation file as ``N x 9`` float64 (the quoted label is dropped)."""
    rows = []
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        fields = line.split(maxsplit=_NUMERIC_FIELDS)
        if len(fields) < _NUMERIC_FIELDS:
            raise AnnotationError(f"{path}:{lineno}: expected {_NUMERIC_FIELDS} numeric fields and a label, "
                                  f"found {len(fields)} fields: {line.strip()!r}")
        rows.append(parse_numbers(" ".join(fields[:_NUMERIC_FIELDS]), path, lineno))
    if not rows:
        raise AnnotationError(f"{path}: empty annotation file")
    return np.asarray(rows, dtype=np.float64)


@EVAL_DATASETS.register("nfs")
class NfS(EvalDataset):
    """NfS at ``fps`` 30 (default) or 240; results go to ``nfs`` / ``nfs_240``."""

    name = "nfs"
    paths_key = "nfs"
    splits = ("30", "240")

    def __init__(self, root: str | Path | None = None, split: str | None = None) -> None:
        super().__init__(root, None if split is None else str(split))

    def _names(self) -> list[str]:
        return sorted(p.parent.parent.name for p in self.root.glob(f"*/{self.split}/*.txt")
                      if p.stem == p.parent.parent.name)

    def _load(self, name: str) -> Sequence:
        folder = self.root / name / self.split
        if not folder.is_dir():
            raise MissingFileError(f"{folder}: missing (NfS {self.split} fps folder of {name})")
        anno_path = folder / f"{name}.txt"
        anno = read_vatic(anno_path)
        # without frames: the 30 fps folder ships the 240 fps annotation, every 8th row is a frame
        frames = self._frames(folder / name, len(anno[0::8]) if self.split == "30" else len(anno))
        if self.split == "30" and abs(len(anno) / len(frames) - 8) < 1:
            anno = anno[0::8]
        if abs(len(anno) - len(frames)) > 1:
            raise AnnotationError(f"{anno_path}: {len(anno)} annotation rows for {len(frames)} frames "
                                  f"(at most one row may differ)")
        n = min(len(anno), len(frames))
        anno, frames = anno[:n], frames[:n]
        x0, y0, x1, y1 = anno[:, 1], anno[:, 2], anno[:, 3], anno[:, 4]
        gt = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
        lost, occluded = anno[:, 6].astype(bool), anno[:, 7].astype(bool)
        return Sequence(name=name, dataset=self.name, frames=frames, ground_truth=gt, target_visible=~lost,
                        extra={"occluded": occluded, "generated": anno[:, 8].astype(bool)})
