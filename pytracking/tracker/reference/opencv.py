"""OpenCV's built-in trackers as real peers, registered only where the installed OpenCV has them.

Each candidate (MIL, KCF, CSRT) is probed under its OpenCV 4.x/5.x names (``cv2.TrackerMIL_create``,
``cv2.TrackerMIL.create``, ``cv2.legacy.TrackerMIL_create``) and registered as ``opencv_<algo>``
if a tracker can be constructed. Trackers needing model files (DaSiamRPN, Nano, ViT) are left out.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from pytracking.tracker.base import TRACKERS, BaseTracker
from pytracking.tracker.base.frames import sequence_frame

CANDIDATES = {
    "mil": ("TrackerMIL_create", "TrackerMIL.create", "legacy.TrackerMIL_create"),
    "kcf": ("TrackerKCF_create", "TrackerKCF.create", "legacy.TrackerKCF_create"),
    "csrt": ("TrackerCSRT_create", "TrackerCSRT.create", "legacy.TrackerCSRT_create"),
}


def find_factory(names: tuple[str, ...]) -> Callable[[], Any] | None:
    """The first of ``names`` (dotted attribute paths of ``cv2``) that builds a tracker, else None."""
    for name in names:
        obj: Any = cv2
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is None:
            continue
        try:
            obj()
        except cv2.error:
            continue
        return obj
    return None


def frame_rect(box: list[float], width: int, height: int) -> tuple[int, int, int, int]:
    """``x, y, w, h`` in whole pixels, at least 1 px a side, cut to the frame grown by its own size on
    every side: a box partly outside is kept as OpenCV is given it elsewhere, but one far larger than
    the frame would make OpenCV's trackers allocate their models at its size (gigabytes)."""
    x, y, w, h = round(box[0]), round(box[1]), max(1, round(box[2])), max(1, round(box[3]))
    x0, y0 = min(max(x, -width), 2 * width - 1), min(max(y, -height), 2 * height - 1)
    x1, y1 = min(max(x + w, x0 + 1), 2 * width), min(max(y + h, y0 + 1), 2 * height)
    return x0, y0, x1 - x0, y1 - y0


class OpenCVTracker(BaseTracker):
    """Wraps a ``cv2.Tracker``: integer boxes in, boxes out; on a lost frame it repeats the last box.

    OpenCV's MIL keeps random state that ``cv2.setRNGSeed`` does not reset, so its output depends
    on what ran before in the process; the runner gives every job a fresh process for this reason.
    """

    factory: Callable[[], Any]

    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        cv2.setRNGSeed(int(info["seed"]))
        self._tracker = type(self).factory()
        self.height, self.width = image.shape[:2]
        self.frame = 0
        rect = frame_rect(info["init_bbox"], self.width, self.height)
        try:
            self._tracker.init(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), rect)
        except cv2.error as err:
            self._tracker = None
            raise ValueError(f"{type(self).__name__} cannot start on box {list(info['init_bbox'])} (pixels {rect}) in "
                             f"a {self.width}x{self.height} frame: {str(err).strip().splitlines()[-1]}") from None
        self._last = [float(v) for v in info["init_bbox"]]
        return {"target_bbox": list(self._last)}

    def track(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        self.frame += 1
        image = sequence_frame(image, self.width, self.height, self.frame)
        ok, rect = self._tracker.update(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if ok:
            self._last = [float(v) for v in rect]
        return {"target_bbox": list(self._last), "score": 1.0 if ok else 0.0}


for _algo, _names in CANDIDATES.items():
    _factory = find_factory(_names)
    if _factory is not None:
        TRACKERS.register(f"opencv_{_algo}")(
            type(f"OpenCV{_algo.upper()}Tracker", (OpenCVTracker,),
                 {"factory": staticmethod(_factory), "__doc__": f"OpenCV's {_algo.upper()} tracker."}))
