"""The tracker interface: ``initialize(image, info)`` on frame 1, then ``track(image, info)`` per frame.

Images are RGB ``uint8`` ``H x W x 3``. ``initialize`` gets ``info['init_bbox']`` (``x, y, w, h``),
``info['init_region']`` on VOT sequences, ``info['seed']`` (the job's seed), and
``info['sequence']`` (a :class:`~pytracking.tracker.base.sequence_info.SequenceInfo`: benchmark,
sequence name, frame count); it must fully reset per-sequence state, because one instance tracks many
sequences in turn. ``track`` returns ``{'target_bbox': [x, y, w, h], 'score': float (optional),
'segmentation': H x W uint8 (optional)}``. A tracker that declares ``needs_ground_truth`` (only
the reference GT-replay tracker should) receives ``info['gt_bbox']`` on every frame.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ltr.admin.registry import Registry
from ltr.config.experiment import experiment_path
from ltr.config.loader import ConfigError, load_config

TRACKER_MODULES = ["pytracking.tracker.reference", "pytracking.tracker.jcat", "pytracking.tracker.bit"]
"""Modules that register trackers; a new tracker package adds its module here."""
TRACKERS = Registry("tracker", modules=TRACKER_MODULES)
"""Name -> BaseTracker subclass."""


class BaseTracker(ABC):
    """Base class of every online tracker; subclasses register with ``@TRACKERS.register(name)``.

    ``params_schema`` is the dataclass validating ``experiments/<name>/<config>.yaml`` (None:
    the tracker takes no parameters). Override :meth:`load_params` for another config scheme.
    """

    needs_ground_truth: ClassVar[bool] = False
    reference: ClassVar[bool] = False  # True: a baseline doing no real work; the analysis shows no FPS for it
    produces_segmentation: ClassVar[bool] = False  # True: track() returns 'segmentation' every frame
    params_schema: ClassVar[type | None] = None

    def __init__(self, params: Any = None, checkpoint: Path | None = None) -> None:
        self.params = params
        self.checkpoint = checkpoint

    @classmethod
    def params_checkpoint(cls, params: Any) -> str | None:
        """The weights file the parameters name (``tracking.checkpoint``), if any: used when no
        explicit checkpoint is given, and hashed into the results sidecar either way."""
        return getattr(getattr(params, "tracking", None), "checkpoint", None)

    @classmethod
    def load_params(cls, name: str, config: str | None, overrides: Sequence[str] = ()) -> Any:
        """Parameters from ``experiments/<name>/<config>.yaml`` (or a YAML path); defaults when ``config`` is None."""
        if cls.params_schema is None:
            if config is not None or overrides:
                raise ConfigError(f"tracker '{name}' takes no config (got config={config!r}, overrides={list(overrides)})")
            return None
        return load_config(experiment_path(name, config) if config else None, cls.params_schema, overrides)

    @abstractmethod
    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        """Start tracking the target given in ``info['init_bbox']``; may return ``{}``."""

    @abstractmethod
    def track(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        """Locate the target in the next frame; returns at least ``{'target_bbox': [x, y, w, h]}``."""
