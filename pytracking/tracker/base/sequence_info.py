"""``SequenceInfo``: what a tracker is told about the sequence it is about to track.

Every caller of ``BaseTracker.initialize`` / ``track`` (the runner, the VOT protocols, the Python
API, the video demo) puts one of these in ``info['sequence']``, so a tracker can apply
per-benchmark settings (e.g. BIT's dynamic-template interval: TrackingNet 25, VOT2020 10)
without guessing from a bare name string.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SequenceInfo:
    """Benchmark (``dataset``, lower case as in ``Sequence.dataset``; ``"api"`` / ``"video"`` outside
    a benchmark), sequence ``name`` and ``num_frames`` (None when unknown, e.g. a live stream)."""

    dataset: str
    name: str
    num_frames: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not isinstance(self.name, str):
            raise TypeError(f"SequenceInfo needs str dataset and name, got {self.dataset!r}, {self.name!r}")
        if self.num_frames is not None and (not isinstance(self.num_frames, int) or self.num_frames < 1):
            raise ValueError(f"SequenceInfo.num_frames must be a positive int or None, got {self.num_frames!r}")
        object.__setattr__(self, "dataset", self.dataset.lower())


def sequence_info(info: dict) -> SequenceInfo | None:
    """``info['sequence']`` checked: a :class:`SequenceInfo`, or None when the caller gave none.

    Anything else (such as a bare sequence-name string) is a caller bug that would silently drop
    per-benchmark settings, so it raises.
    """
    value = info.get("sequence")
    if value is None or isinstance(value, SequenceInfo):
        return value
    raise TypeError(f"info['sequence'] must be a SequenceInfo (dataset, name, num_frames), got {value!r}")
