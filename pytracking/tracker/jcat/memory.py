"""The segmentation memory bank: extra (features, mask) samples beside the first-frame reference.

Up to ``size`` samples, first in first out. Schedule as the official tracker's (``track``,
``segm_update_num``), with ``t`` the tracked-frame index (1 = first frame after the initial
one) and only while ``u < max_uncertainty``: frames are counted since the last scheduled
update (the counter starts at ``t = -1``, official ``segm_update_num = 0`` with frame 1 the
initial frame). With a hard negative (the filter's flag or a segmentation hard negative) an
update is due after ``hard_negative_interval`` frames; otherwise on tracked frames
1..``initial_frames`` and after ``interval`` frames (``regular_updates``). A due update resets
the counter even when its sample is then rejected (too small a region).
"""
from __future__ import annotations

from collections import deque
from typing import Any

from ltr.models.jcat.experiment import MemoryConfig

MemorySample = Any  # a sample prepared by the network (JcatNet.prepare_memory) from a crop's features and mask


class SegmentationMemory:
    """FIFO of prepared (crop features, predicted mask) samples passed to ``JcatNet.segment_prepared(memory=...)``."""

    def __init__(self, cfg: MemoryConfig) -> None:
        self.cfg = cfg
        self._samples: deque[MemorySample] = deque(maxlen=max(cfg.size, 1))
        self.last_update = -1

    def should_add(self, frame: int, hard_negative: bool, uncertainty: float) -> bool:
        """Whether tracked frame ``frame`` is due to add a sample (see the module docstring)."""
        cfg = self.cfg
        if cfg.size == 0 or not uncertainty < cfg.max_uncertainty:
            return False
        since = frame - self.last_update
        if hard_negative:
            return since >= cfg.hard_negative_interval
        return cfg.regular_updates and (frame <= cfg.initial_frames or since >= cfg.interval)

    def mark(self, frame: int) -> None:
        """Record that ``frame`` performed a scheduled update (whether or not a sample was added)."""
        self.last_update = frame

    def add(self, sample: MemorySample) -> None:
        """Store a sample (dropping the oldest when full)."""
        self._samples.append(sample)

    def samples(self) -> list[MemorySample]:
        """Stored samples, oldest first."""
        return list(self._samples) if self.cfg.size else []

    def __len__(self) -> int:
        return len(self._samples) if self.cfg.size else 0
