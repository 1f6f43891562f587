"""AVisT (Noman et al., BMVC 2022): 120 sequences in adverse visibility. Layout:
``<root>/sequences/<seq>/img_%05d.jpg``, ``<root>/anno/<seq>.txt`` (``x,y,w,h``),
``<root>/full_occlusion/<seq>_full_occlusion.txt`` and ``<root>/out_of_view/<seq>_out_of_view.txt``
(0/1 flags, comma separated). Sequences are the annotation files. AVisT is scored with pytracking's
analysis (success AUC, OP50, OP75 over every frame), i.e. the ``otb`` protocol here; visibility
goes to ``target_visible`` for protocols that use it.
"""
from __future__ import annotations

from pytracking.evaluation.annotations import AnnotationError, MissingFileError, read_int_labels, read_table
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.base import EvalDataset
from pytracking.evaluation.sequence import Sequence


@EVAL_DATASETS.register("avist")
class AVisT(EvalDataset):
    """AVisT test set (the whole benchmark)."""

    name = "avist"
    paths_key = "avist"
    splits = ("test",)

    def _names(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "anno").glob("*.txt"))

    def _load(self, name: str) -> Sequence:
        anno = self.root / "anno" / f"{name}.txt"
        gt = read_table(anno, columns=4)
        folder = self.root / "sequences" / name
        frames = [folder / f"img_{n:05d}.jpg" for n in range(1, len(gt) + 1)]
        if not frames[0].is_file():
            raise MissingFileError(f"{frames[0]}: missing (first frame of AVisT sequence {name})")
        if not frames[-1].is_file():
            raise AnnotationError(f"{anno}: {len(gt)} boxes but {frames[-1].name} is missing in {folder}")
        flags = {}
        for kind in ("full_occlusion", "out_of_view"):
            path = self.root / kind / f"{name}_{kind}.txt"
            values = read_int_labels(path).astype(bool)
            if len(values) != len(gt):
                raise AnnotationError(f"{path}: {len(values)} flags for {len(gt)} frames")
            flags[kind] = values
        return Sequence(name=name, dataset=self.name, frames=[str(f) for f in frames], ground_truth=gt,
                        target_visible=~flags["full_occlusion"] & ~flags["out_of_view"], extra=flags)
