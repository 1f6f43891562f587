"""JCAT's online sample filtering: decide per frame what may update the tracker's state and models.

Two statistics (jcat.md "Online sample filtering"):

* uncertainty ``u = mean(last 25 max responses) / current max response`` (from frame
  ``start_frame + 1`` on; 1 before, and infinite for a non-positive response): a response
  far below its recent level means the correlation filter has probably lost the target;
* confidence ratio ``c = current segmentation confidence / mean(last 5 confidences)``
  (1 while no confidence is stored, 0 when the frame was not segmented).

Gates: position and scale change only when ``u < 3``; the correlation-filter memory is updated
only when ``u < 3`` and ``c > 0.15``; segmentation runs only when ``u < 10``. A response enters
its budget only when ``u < 3``, a confidence only when ``c > 0.3``, so bad frames never become
the reference level against which later frames are judged.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from ltr.models.jcat.experiment import SampleFilterConfig


@dataclass(frozen=True)
class FilterDecision:
    """What one frame may update, with the statistics that decided it."""

    uncertainty: float
    confidence_ratio: float
    update_state: bool  # position and scale
    update_filter: bool  # correlation-filter sample memory


class SampleFilter:
    """Keeps the response and confidence budgets of one sequence and applies the gates."""

    def __init__(self, cfg: SampleFilterConfig) -> None:
        self.cfg = cfg
        self.responses: deque[float] = deque(maxlen=cfg.response_window)
        self.confidences: deque[float] = deque(maxlen=cfg.confidence_window)

    def uncertainty(self, frame: int, max_response: float) -> float:
        """``u`` of frame ``frame`` (1-based after the initial frame) from its maximum filter response."""
        if frame <= self.cfg.start_frame or not self.responses:
            return 1.0
        if not max_response > 0 or not math.isfinite(max_response):
            return math.inf
        return (sum(self.responses) / len(self.responses)) / max_response

    def should_segment(self, uncertainty: float) -> bool:
        """Segmentation is skipped when the filter is very uncertain (``u >= 10``)."""
        return uncertainty < self.cfg.max_uncertainty_segmentation

    def confidence_ratio(self, confidence: float | None) -> float:
        """``c`` of a segmentation confidence (None: the frame was not segmented)."""
        if confidence is None:
            return 0.0
        if not self.confidences:
            return 1.0
        mean = sum(self.confidences) / len(self.confidences)
        return confidence / mean if mean > 0 else 1.0

    def decide(self, uncertainty: float, max_response: float, confidence: float | None) -> FilterDecision:
        """Gate the frame's updates and feed the budgets (call once per frame, after segmentation)."""
        cfg = self.cfg
        ratio = self.confidence_ratio(confidence)
        certain = uncertainty < cfg.max_uncertainty
        if certain and math.isfinite(max_response):
            self.responses.append(max_response)
        if confidence is not None and ratio > cfg.min_confidence_ratio_budget:
            self.confidences.append(confidence)
        return FilterDecision(uncertainty, ratio, update_state=certain,
                              update_filter=certain and ratio > cfg.min_confidence_ratio_update)
