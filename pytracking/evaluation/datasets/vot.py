"""VOT2018, VOT2020 and VOT2022 short-term sequences in the vot-toolkit layout.

``<root>/list.txt`` names sequence folders with ``color/%08d.jpg`` (or, in the older layout,
frames directly in the folder), ``groundtruth.txt`` (VOT2018: rectangles or 8-value polygons;
VOT2020: RLE masks), per-frame ``*.tag`` files (shorter files are padded with 0) and, for
VOT2020, ``anchor.value``. Raw regions stay in ``Sequence.regions``; ``ground_truth`` holds
the axis-aligned boxes; per-frame tags and anchors go to ``extra``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pytracking.evaluation.annotations import (
    MissingFileError,
    check_length,
    image_size,
    pad_labels,
    read_float_column,
    read_int_labels,
    read_lines,
    read_name_list,
)
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.base import EvalDataset, package_data
from pytracking.evaluation.regions import Region, parse_region, region_to_bbox
from pytracking.evaluation.sequence import Sequence

_TAGS = package_data("attributes.json")["vot"]["names"]


def read_regions(path: Path) -> list[Region]:
    """Every non-empty line of a VOT ``groundtruth.txt`` as a region."""
    return [parse_region(line, path, n) for n, line in enumerate(read_lines(path), start=1) if line.strip()]


def read_sequence_file(path: Path) -> dict[str, str]:
    """The ``key=value`` metadata of a VOT ``sequence`` file (empty when absent)."""
    if not path.is_file():
        return {}
    return dict(line.split("=", 1) for line in read_lines(path) if "=" in line)


class VOTDataset(EvalDataset):
    """Shared reader; sequence-level attributes are the tags set on at least one frame."""

    splits = ("test",)
    attribute_names = _TAGS

    def _names(self) -> list[str]:
        return read_name_list(self.root / "list.txt")

    def _tags(self, folder: Path, frames: int) -> dict[str, np.ndarray]:
        return {tag: pad_labels(read_int_labels(folder / f"{tag}.tag"), frames, folder / f"{tag}.tag").astype(bool)
                for tag in _TAGS if (folder / f"{tag}.tag").is_file()}

    def sequence_attributes(self, name: str) -> list[str]:
        folder = self.root / name
        return [tag for tag in _TAGS if (folder / f"{tag}.tag").is_file()
                and read_int_labels(folder / f"{tag}.tag").any()]

    def _load(self, name: str) -> Sequence:
        folder = self.root / name
        if not folder.is_dir():
            raise MissingFileError(f"{folder}: missing (sequence listed in {self.root / 'list.txt'})")
        anno = folder / "groundtruth.txt"
        regions = read_regions(anno)
        older_layout = not (folder / "color").is_dir() and any(folder.glob("*.jpg"))
        frames = self._frames(folder if older_layout else folder / "color", len(regions))
        check_length(regions, len(frames), anno)
        gt = np.stack([region_to_bbox(r) for r in regions])
        meta = read_sequence_file(folder / "sequence")
        size = (image_size(meta["width"], meta["height"], folder / "sequence")
                if "width" in meta and "height" in meta else None)
        tags = self._tags(folder, len(frames))
        extra: dict = {"tags": tags, "meta": meta}
        if (folder / "anchor.value").is_file():
            extra["anchors"] = pad_labels(read_float_column(folder / "anchor.value"), len(frames), folder / "anchor.value")
        return Sequence(name=name, dataset=self.name, frames=frames, ground_truth=gt,
                        attributes=[t for t in _TAGS if t in tags and tags[t].any()], image_size=size,
                        regions=regions, extra=extra)


@EVAL_DATASETS.register("vot2018")
class VOT2018(VOTDataset):
    """VOT2018 short-term (rectangles and 8-value polygons)."""

    name = "vot2018"
    paths_key = "vot2018"


@EVAL_DATASETS.register("vot2020")
class VOT2020(VOTDataset):
    """VOT2020 short-term (RLE masks; ``extra['anchors']`` from ``anchor.value``)."""

    name = "vot2020"
    paths_key = "vot2020"


@EVAL_DATASETS.register("vot2022")
class VOT2022(VOTDataset):
    """VOT2022 short-term in a vot-toolkit workspace's ``sequences/`` folder: the segmentation stack
    (``vot2022/sts``, RLE masks) or the box stack (``vot2022/stb``, rectangles), ``anchor.value``
    per sequence. VOT2022 kept VOT2020's anchor-based protocol (EAO, accuracy, robustness), so it
    runs and is scored as ``vot2020``."""

    name = "vot2022"
    paths_key = "vot2022"
