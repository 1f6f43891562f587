"""The segmentation memory bank: extra (features, mask) samples beside the first-frame reference.

Up to ``size`` samples, first in first out. Schedule (jcat.md), with frames counted from 1
after the initial frame and only when the uncertainty ``u < max_uncertainty``: every
``hard_negative_interval`` frames while the filter reports a hard negative (distractors: more
views of the target help to tell it apart), otherwise on each of the first ``initial_frames``
frames and then every ``interval`` frames.
"""
from __future__ import annotations

from collections import deque

import torch

from ltr.models.jcat.experiment import MemoryConfig

MemorySample = tuple[dict[str, torch.Tensor], torch.Tensor]


class SegmentationMemory:
    """FIFO of (test-crop features, predicted mask) pairs passed to ``JcatNet.segment(memory=...)``."""

    def __init__(self, cfg: MemoryConfig) -> None:
        self.cfg = cfg
        self._samples: deque[MemorySample] = deque(maxlen=max(cfg.size, 1))

    def should_add(self, frame: int, hard_negative: bool, uncertainty: float) -> bool:
        """Whether frame ``frame`` (1-based after init) is scheduled to add a sample."""
        cfg = self.cfg
        if cfg.size == 0 or not uncertainty < cfg.max_uncertainty:
            return False
        if hard_negative:
            return frame % cfg.hard_negative_interval == 0
        return frame <= cfg.initial_frames or frame % cfg.interval == 0

    def add(self, features: dict[str, torch.Tensor], mask: torch.Tensor) -> None:
        """Store a sample; only ``layer3`` is kept (the only tap the memory is read at)."""
        self._samples.append(({"layer3": features["layer3"]}, mask))

    def samples(self) -> list[MemorySample]:
        """Stored samples, oldest first."""
        return list(self._samples) if self.cfg.size else []

    def __len__(self) -> int:
        return len(self._samples) if self.cfg.size else 0
