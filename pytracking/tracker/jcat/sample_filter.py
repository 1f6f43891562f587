"""JCAT's online sample filtering: decide per frame what may update the tracker's state and models.

As the official tracker (Yang428/JCAT ``tracker/Jcat/Jcat.py``, ``track``), with ``t`` the
tracked-frame index (1 = the first frame after the initial one):

* uncertainty ``u = mean(response budget) / current max response`` from tracked frame
  ``start_frame + 1`` (the 5th) on, 0 before. The budget starts with one entry of 1
  (``response_budget_init``) and takes a frame's maximum when ``u < 3`` (last 25 kept). A
  negative maximum gives a negative ``u``, i.e. "certain" (official; ``negative_peak_uncertain``
  makes it ∞). A target-not-found flag sets ``u = 100`` after the budget update.
* confidence ratio ``c = confidence / mean(confidence budget)`` from the same frame on, 1
  before (``nan`` while the budget is empty, which fails every gate, as ``np.mean([])`` does).
  The confidence is the response map's ``smax·(smax−smin)²/mean((s−smin)²)`` (or the mean
  mask probability, the project's variant; or none: c = 1, the official VOT tracker). A
  confidence enters its budget (last 5) when ``c > 0.3``, whatever ``u`` is.

Gates: position and scale follow the filter only when ``u < 3``; the filter's sample memory is
updated when ``u < 3`` and ``c > 0.15``; segmentation runs when ``u < 10``.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from ltr.models.jcat.experiment import SampleFilterConfig

NOT_FOUND_UNCERTAINTY = 100.0  # official: uncert_score = 100 when the filter reports not found


@dataclass(frozen=True)
class FilterDecision:
    """What one frame may update, with the statistics that decided it."""

    uncertainty: float
    confidence_ratio: float
    update_state: bool  # position and scale follow the filter
    update_filter: bool  # correlation-filter sample memory
    segment: bool  # run the segmentation


class SampleFilter:
    """Keeps the response and confidence budgets of one sequence and applies the gates."""

    def __init__(self, cfg: SampleFilterConfig) -> None:
        self.cfg = cfg
        self.responses: deque[float] = deque(maxlen=cfg.response_window)
        if cfg.response_budget_init is not None:
            self.responses.append(float(cfg.response_budget_init))
        self.confidences: deque[float] = deque(maxlen=cfg.confidence_window)

    def _started(self, frame: int) -> bool:
        return frame > self.cfg.start_frame

    def uncertainty(self, frame: int, max_response: float) -> float:
        """``u`` of tracked frame ``frame`` from its maximum filter response (no side effects)."""
        if not self._started(frame) or not self.responses:
            return 0.0
        if not math.isfinite(max_response) or max_response == 0:
            return math.inf
        if max_response < 0 and self.cfg.negative_peak_uncertain:
            return math.inf
        return (sum(self.responses) / len(self.responses)) / max_response

    def add_response(self, uncertainty: float, max_response: float) -> None:
        """The response enters its budget when the frame is certain (``u < max_uncertainty``)."""
        if uncertainty < self.cfg.max_uncertainty and math.isfinite(max_response):
            self.responses.append(float(max_response))

    def confidence_ratio(self, frame: int, confidence: float | None) -> float:
        """``c`` of tracked frame ``frame`` (confidence None: not available, c = 0)."""
        if self.cfg.confidence == "none" or not self._started(frame):
            return 1.0
        if confidence is None:
            return 0.0
        if not self.confidences:
            return math.nan
        mean = sum(self.confidences) / len(self.confidences)
        return confidence / mean if mean != 0 else math.copysign(math.inf, confidence)

    def add_confidence(self, ratio: float, confidence: float | None) -> None:
        """The confidence enters its budget when ``c > min_confidence_ratio_budget``."""
        if confidence is not None and ratio > self.cfg.min_confidence_ratio_budget:
            self.confidences.append(float(confidence))

    def decide(self, uncertainty: float, ratio: float) -> FilterDecision:
        """The gates of one frame (``uncertainty`` after the not-found override)."""
        cfg = self.cfg
        certain = uncertainty < cfg.max_uncertainty
        return FilterDecision(uncertainty, ratio, update_state=certain,
                              update_filter=certain and ratio > cfg.min_confidence_ratio_update,
                              segment=uncertainty < cfg.max_uncertainty_segmentation)
