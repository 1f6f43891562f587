"""TrackingNet TEST (511 sequences): ``TEST/anno/<seq>.txt`` holds only frame 1's box.

Frames are ``TEST/frames/<seq>/0.jpg, 1.jpg, ...`` (0-based, unpadded, sorted numerically).
The devkit's annotation files use CRLF line ends and space-padded ``%.2f`` fields; both are
accepted. Rows after the first are NaN: the evaluation server holds the ground truth.
"""
from __future__ import annotations

from pytracking.evaluation.annotations import (
    MissingFileError,
    check_length,
    nan_after_first,
    read_table,
)
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.base import EvalDataset
from pytracking.evaluation.sequence import Sequence


@EVAL_DATASETS.register("trackingnet")
class TrackingNet(EvalDataset):
    """TrackingNet test split (``TEST`` chunk)."""

    name = "trackingnet"
    paths_key = "trackingnet"
    splits = ("test",)

    def _names(self) -> list[str]:
        anno = self.root / "TEST" / "anno"
        if not anno.is_dir():
            raise MissingFileError(f"{anno}: missing (TrackingNet TEST annotations)")
        return sorted(p.stem for p in anno.glob("*.txt"))

    def _load(self, name: str) -> Sequence:
        anno = self.root / "TEST" / "anno" / f"{name}.txt"
        gt = read_table(anno, columns=4)
        frames = self._frames(self.root / "TEST" / "frames" / name, len(gt) if len(gt) > 1 else None)
        if len(gt) == 1:
            gt = nan_after_first(gt, len(frames))
        check_length(gt, len(frames), anno)
        return Sequence(name=name, dataset=self.name, frames=frames, ground_truth=gt)
