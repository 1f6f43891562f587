"""TNL2K (Wang et al., CVPR 2021) test set: ``<root>/<seq>/imgs/`` frames (``.jpg`` or ``.png``),
``groundtruth.txt`` (``x,y,w,h`` per frame) and ``language.txt`` (the natural-language query).
Sequences are the folders holding a ``groundtruth.txt`` (700 in the test release). The official
toolkit is LaSOT's MATLAB toolkit adapted, so results are scored with the ``lasot`` protocol;
there are no visibility files, and all-zero boxes (target absent) fail every threshold as GT
values <= 0 do in that toolkit.
"""
from __future__ import annotations

from pathlib import Path

from pytracking.evaluation.annotations import MissingFileError, check_length, read_lines, read_table, require
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.base import EvalDataset
from pytracking.evaluation.sequence import Sequence

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def sorted_frames(folder: Path) -> list[str]:
    """Image files of ``folder`` in frame order: numerically when every stem ends in digits
    (``img9`` before ``img10``), else by name."""
    require(folder, "frames folder")
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise MissingFileError(f"{folder}: no image frames ({', '.join(IMAGE_SUFFIXES)})")

    def number(p: Path) -> int | None:
        digits = p.stem[len(p.stem.rstrip("0123456789")):]
        return int(digits) if digits else None

    if all(number(p) is not None for p in files):
        return [str(p) for p in sorted(files, key=lambda p: (number(p), p.name))]
    return [str(p) for p in sorted(files)]


@EVAL_DATASETS.register("tnl2k")
class TNL2K(EvalDataset):
    """TNL2K test split; ``Sequence.extra['language']`` holds the query sentence."""

    name = "tnl2k"
    paths_key = "tnl2k"
    splits = ("test",)

    def _names(self) -> list[str]:
        return sorted(p.parent.name for p in self.root.glob("*/groundtruth.txt"))

    def _load(self, name: str) -> Sequence:
        folder = self.root / name
        frames = sorted_frames(folder / "imgs")
        anno = folder / "groundtruth.txt"
        gt = read_table(anno, columns=4)
        check_length(gt, len(frames), anno)
        language = folder / "language.txt"
        extra = {"language": " ".join(read_lines(language)).strip()} if language.is_file() else {}
        return Sequence(name=name, dataset=self.name, frames=frames, ground_truth=gt, extra=extra)
