"""OTB100 (OTB-2015): 98 folders, 100 targets, sequence table as package data (``otb100.json``).

Quirks handled (formats.md): annotated sub-ranges of David/Football1/Freeman3/Freeman4/Diving,
Board's 5-digit frames, BlurCar1/3/4 start numbers, Tiger1 ``initOmit`` 5 (pytracking's choice;
``init_omit=False`` keeps all 354 frames as got10k does), two targets in Jogging/Skating2 named
``Jogging_1``/``Jogging_2``, Human4's target in ``groundtruth_rect.2.txt`` as ``Human4_2``,
KiteSurf frames as ``.jpg`` or ``.png``, and comma/tab/space delimiters mixed within a file.
"""
from __future__ import annotations

from pathlib import Path

from pytracking.evaluation.annotations import check_length, read_table
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.base import EvalDataset, package_data
from pytracking.evaluation.sequence import Sequence

_TABLE = package_data("otb100.json")


@EVAL_DATASETS.register("otb")
class OTB100(EvalDataset):
    """OTB100 with the 11 OTB attributes; ``init_omit`` applies Tiger1's 5 skipped frames."""

    name = "otb"
    paths_key = "otb"
    splits = ("test",)
    attribute_names = _TABLE["attribute_names"]

    def __init__(self, root: str | Path | None = None, split: str | None = None, init_omit: bool = True) -> None:
        super().__init__(root, split)
        self.init_omit = init_omit

    def _names(self) -> list[str]:
        return list(_TABLE["sequences"])

    def sequence_attributes(self, name: str) -> list[str]:
        return list(_TABLE["sequences"][name]["attributes"])

    def _frame_path(self, folder: Path, number: int, digits: int) -> Path:
        jpg = folder / f"{number:0{digits}d}.jpg"
        png = jpg.with_suffix(".png")
        return png if not jpg.exists() and png.exists() else jpg

    def _load(self, name: str) -> Sequence:
        info = _TABLE["sequences"][name]
        folder = self.root / info["folder"] / "img"
        omit = info.get("init_omit", 0) if self.init_omit else 0
        start, end, digits = info["start_frame"] + omit, info["end_frame"], info["digits"]
        first = self._frame_path(folder, start, digits)
        self._require_frame(first, f"first frame of OTB sequence {name}")
        frames = [str(first.with_name(f"{n:0{digits}d}{first.suffix}")) for n in range(start, end + 1)]
        anno = self.root / info["folder"] / info["anno"]
        gt = read_table(anno, columns=4)[omit:]
        check_length(gt, len(frames), anno)
        return Sequence(name=name, dataset=self.name, frames=frames, ground_truth=gt,
                        attributes=self.sequence_attributes(name), object_class=info["object_class"])
