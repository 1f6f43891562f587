"""Driving a tracker for the VOT protocols that need one in the loop (resets, anchors).

Shared by ``vot2018.run_supervised`` and ``vot2020.run_multistart``: ground-truth regions of a
sequence, image size, and a timed ``initialize``/``track`` call on any BaseTracker-like object
(``initialize(image, info)`` and ``track(image, info)`` returning a dict with ``target_polygon``,
``target_bbox`` or ``segmentation`` — scored in that order of preference — or a bare box).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from pytracking.analysis.protocols.vot_region import Region, as_region
from pytracking.evaluation.sequence import Sequence

ImageLoader = Callable[[str], np.ndarray]


class TrackerLike(Protocol):
    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> Any: ...

    def track(self, image: np.ndarray, info: dict[str, Any]) -> Any: ...


def gt_regions(sequence: Sequence) -> list[Region]:
    """The sequence's VOT regions (polygons/masks) if it has them, else its GT boxes."""
    if sequence.regions is not None:
        return [as_region(r) for r in sequence.regions]
    return [as_region(b) for b in sequence.ground_truth]


def default_loader() -> ImageLoader:
    """OpenCV decoding, as ``Tracker.run_sequence`` (not jpeg4py, which depends on the machine)."""
    from functools import partial

    from ltr.data.image_io import imread
    return partial(imread, use_jpeg4py=False)


class TimedTracker:
    """Calls a tracker on frames of one sequence, loading images and timing each call."""

    def __init__(self, tracker: TrackerLike, sequence: Sequence, image_loader: ImageLoader | None = None):
        self.tracker = tracker
        self.sequence = sequence
        self.load = image_loader or default_loader()
        self.regions = gt_regions(sequence)
        self.image_size = sequence.image_size

    def _image(self, frame: int) -> np.ndarray:
        image = self.load(self.sequence.frames[frame])
        if self.image_size is None and hasattr(image, "shape"):
            self.image_size = (int(image.shape[1]), int(image.shape[0]))
        return image

    def initialize(self, frame: int) -> float:
        """Initialise on the GT of ``frame``; returns the seconds taken."""
        image = self._image(frame)
        info: dict[str, Any] = {"init_bbox": [float(v) for v in self.sequence.ground_truth[frame]],
                                "sequence": self.sequence.tracker_info()}
        if self.sequence.regions is not None:
            info["init_region"] = self.sequence.regions[frame]
        start = time.perf_counter()
        self.tracker.initialize(image, info)
        return time.perf_counter() - start

    def track(self, frame: int) -> tuple[Region, float]:
        """Track on ``frame``; returns the predicted region and the seconds taken."""
        image = self._image(frame)
        info: dict[str, Any] = {}
        if getattr(self.tracker, "needs_ground_truth", False):  # the GT-replay reference tracker
            info["gt_bbox"] = [float(v) for v in self.sequence.ground_truth[frame]]
        start = time.perf_counter()
        out = self.tracker.track(image, info)
        return as_region(out), time.perf_counter() - start
