"""The template slots of BIT/STARK: the fixed initial template and the dynamic template(s).

Slot 0 holds the first frame's features for the whole sequence. Each update interval ``Tu``
owns one dynamic slot, initialised with the first frame's features too; on frames ``k`` with
``k % Tu == 0`` and ``sigmoid(score) > threshold`` the slot is replaced by features of a crop at
the newly predicted box (STARK-ST ``stark_st.py``). Features are computed once per update and
reused on every frame, so the backbone sees one template crop per update, not per frame.
"""
from __future__ import annotations

from typing import Sequence

import torch

FeatureDict = dict[str, torch.Tensor]


class TemplateSlots:
    """Cached template features: ``features[0]`` initial, ``features[1 + i]`` for ``intervals[i]``."""

    def __init__(self, initial: FeatureDict, intervals: Sequence[int], threshold: float) -> None:
        if not intervals or min(intervals) < 1:
            raise ValueError(f"update intervals must be >= 1, got {list(intervals)}")
        self.intervals = list(intervals)
        self.threshold = threshold
        self.features: list[FeatureDict] = [initial] * (1 + len(self.intervals))
        self.updates = 0

    def due(self, frame_id: int, confidence: float) -> list[int]:
        """Dynamic slots to refresh on ``frame_id`` given the frame's confidence (sigmoid score)."""
        if not confidence > self.threshold:
            return []
        return [1 + i for i, interval in enumerate(self.intervals) if frame_id % interval == 0]

    def replace(self, slots: Sequence[int], features: FeatureDict) -> None:
        """Put ``features`` into the given dynamic slots (never the initial slot 0)."""
        for slot in slots:
            if not 1 <= slot < len(self.features):
                raise IndexError(f"dynamic template slot {slot} outside 1..{len(self.features) - 1}")
            self.features[slot] = features
        self.updates += bool(slots)
