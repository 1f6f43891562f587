"""LaSOT extension (``LaSOT_ext``, Fan et al., IJCV 2021): 150 test sequences of 15 new classes
(10 each), in LaSOT's layout ``<class>/<class>-<n>/`` (``img/%08d.jpg``, ``groundtruth.txt``,
``full_occlusion.txt``, ``out_of_view.txt``, ``nlp.txt``). The whole extension is the test set;
it is scored with LaSOT's official protocol (``lasot``).
"""
from __future__ import annotations

from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.lasot import LaSOT

CLASSES = ("atv", "badminton", "cosplay", "dancingshoe", "footbag", "frisbee", "jianzi", "lantern", "misc",
           "opossum", "paddle", "raccoon", "rhino", "skatingshoe", "wingsuit")


@EVAL_DATASETS.register("lasot_ext")
class LaSOTExtension(LaSOT):
    """Every ``<class>/<class>-<n>/groundtruth.txt`` under the root (150 in the release), sorted by
    class and number; attributes from ``att/`` as for LaSOT when present."""

    name = "lasot_ext"
    paths_key = "lasot_ext"
    splits = ("test",)

    def _names(self) -> list[str]:
        found = [p.parent.name for p in self.root.glob("*/*-*/groundtruth.txt") if p.parent.parent.name
                 == p.parent.name.rsplit("-", 1)[0]]
        return sorted(found, key=lambda n: (n.rsplit("-", 1)[0], int(n.rsplit("-", 1)[1])
                                            if n.rsplit("-", 1)[1].isdigit() else 0, n))
