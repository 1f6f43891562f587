"""Temple Color 128 (TColor-128, Liang et al., TIP 2015) in its release layout:
``<root>/<seq>/img/%04d.jpg``, ``<seq>/<name>_gt.txt`` (``x,y,w,h``, commas or whitespace) and
``<seq>/<name>_frames.txt`` (``first,last`` frame numbers the annotation covers). ``<name>`` may
differ from the folder name (e.g. ``Yo-yos_ce3`` in ``Yo_yos_ce3``), so the one ``*_gt.txt`` /
``*_frames.txt`` of the folder is taken. Scored one-pass with the OTB protocol (``otb``: AUC over
21 IoU thresholds, precision at 20 px), as its OTB-derived toolkit does.
"""
from __future__ import annotations

from pathlib import Path

from pytracking.evaluation.annotations import (
    AnnotationError,
    MissingFileError,
    check_length,
    read_int_labels,
    read_table,
    require,
)
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.base import EvalDataset
from pytracking.evaluation.sequence import Sequence


def one_file(folder: Path, pattern: str) -> Path:
    """The single file of ``folder`` matching ``pattern``; none or several is an error naming them."""
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        what = "none" if not found else ", ".join(p.name for p in found)
        raise MissingFileError(f"{folder}: expected one {pattern} file, found {what}")
    return found[0]


@EVAL_DATASETS.register("tc128")
class TC128(EvalDataset):
    """TColor-128: every folder with an ``img/`` and a ``*_gt.txt`` (128 in the release)."""

    name = "tc128"
    paths_key = "tc128"
    splits = ("test",)

    def _names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if (p / "img").is_dir() and any(p.glob("*_gt.txt")))

    def _load(self, name: str) -> Sequence:
        folder = self.root / name
        require(folder, f"TC128 sequence folder of {name}")
        anno = one_file(folder, "*_gt.txt")
        gt = read_table(anno, columns=4)
        span = one_file(folder, "*_frames.txt")
        bounds = read_int_labels(span)
        if len(bounds) != 2 or bounds[1] < bounds[0]:
            raise AnnotationError(f"{span}: expected 'first,last' frame numbers, found {bounds.tolist()}")
        frames = [folder / "img" / f"{n:04d}.jpg" for n in range(int(bounds[0]), int(bounds[1]) + 1)]
        if not frames[0].is_file():
            raise MissingFileError(f"{frames[0]}: missing (first frame of TC128 sequence {name})")
        check_length(gt, len(frames), anno)
        return Sequence(name=name, dataset=self.name, frames=[str(f) for f in frames], ground_truth=gt)
