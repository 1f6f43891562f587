"""One evaluation sequence: frame paths, ground truth, visibility and attributes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytracking.tracker.base.sequence_info import SequenceInfo


@dataclass
class Sequence:
    """A benchmark sequence as the runner and the analysis see it.

    ``ground_truth`` is ``N x 4`` float64 ``x, y, w, h`` with NaN rows where the benchmark gives no
    box (e.g. GOT-10k test after frame 1, UAV123 NaN rows). ``target_visible`` is None when the
    benchmark has no visibility labels. ``regions`` keeps the raw VOT regions (polygons or masks)
    for the VOT protocols; ``extra`` holds per-benchmark facts such as ``cover`` or ``anchors``.
    """

    name: str
    dataset: str
    frames: list[str]
    ground_truth: np.ndarray
    target_visible: np.ndarray | None = None
    attributes: list[str] = field(default_factory=list)
    object_class: str | None = None
    image_size: tuple[int, int] | None = None  # (W, H) when the benchmark states it
    regions: list[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ground_truth = np.asarray(self.ground_truth, dtype=np.float64).reshape(-1, 4)
        if self.target_visible is not None:
            self.target_visible = np.asarray(self.target_visible, dtype=bool)

    def __len__(self) -> int:
        return len(self.frames)

    def tracker_info(self) -> SequenceInfo:
        """The typed per-sequence facts every tracker call gets in ``info['sequence']``."""
        return SequenceInfo(dataset=self.dataset, name=self.name, num_frames=len(self.frames) or None)

    def init_info(self) -> dict[str, Any]:
        """What a tracker gets on the first frame: the initial box (and region if any)."""
        info: dict[str, Any] = {"init_bbox": self.ground_truth[0].tolist()}
        if self.regions is not None:
            info["init_region"] = self.regions[0]
        return info
