"""The static-box baseline: reports the initial box on every frame (the floor any tracker must beat)."""
from __future__ import annotations

from typing import Any

import numpy as np

from pytracking.tracker.base import TRACKERS, BaseTracker


@TRACKERS.register("static")
class StaticBoxTracker(BaseTracker):
    """Never moves: ``track`` returns the box given to ``initialize``."""

    reference = True

    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        self._box = [float(v) for v in info["init_bbox"]]
        return {"target_bbox": list(self._box)}

    def track(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        return {"target_bbox": list(self._box), "score": 1.0}
