"""Ground-truth replay with seeded noise: an upper-bound reference with a known, tunable error.

It declares ``needs_ground_truth`` so the Tracker wrapper passes ``info['gt_bbox']`` per frame;
no other tracker sees ground truth. Where the ground truth is missing or degenerate (NaN rows,
``w`` or ``h`` <= 0) it repeats its last box, so every frame still gets a finite box.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytracking.tracker.base import TRACKERS, BaseTracker


@dataclass
class GTNoiseParams:
    """Noise levels: centre jitter as a fraction of the box size, scale jitter as a log-normal sigma."""

    center_noise: float = field(default=0.05, metadata={"min": 0.0, "max": 10.0})
    scale_noise: float = field(default=0.05, metadata={"min": 0.0, "max": 2.0})


@TRACKERS.register("gt_noise")
class GroundTruthNoiseTracker(BaseTracker):
    """Replays the ground truth with Gaussian centre and log-normal scale noise seeded per job."""

    needs_ground_truth = True
    reference = True
    params_schema = GTNoiseParams

    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        self._rng = np.random.default_rng(info["seed"])
        self._last = np.asarray(info["init_bbox"], dtype=np.float64)
        return {"target_bbox": self._last.tolist()}

    def track(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        params = self.params or GTNoiseParams()
        gt = np.asarray(info["gt_bbox"], dtype=np.float64)
        noise = self._rng.standard_normal(4)  # drawn every frame so the stream does not depend on gaps
        if np.isfinite(gt).all() and gt[2] > 0 and gt[3] > 0:
            w, h = gt[2:] * np.exp(params.scale_noise * noise[2:])
            cx = gt[0] + gt[2] / 2 + params.center_noise * gt[2] * noise[0]
            cy = gt[1] + gt[3] / 2 + params.center_noise * gt[3] * noise[1]
            self._last = np.array([cx - w / 2, cy - h / 2, w, h])
        return {"target_bbox": self._last.tolist(), "score": 1.0}
