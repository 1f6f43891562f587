"""The library API: track an object in your own frames with any registered tracker.

::

    from pytracking.api import load_tracker
    tracker = load_tracker("bit", "default", checkpoint="bit.pth")
    tracker.initialize(first_rgb_frame, (x, y, w, h))
    for frame in frames:
        x, y, w, h = tracker.track(frame)
        mask = tracker.last_output.get("segmentation")   # segmentation trackers only

A thin stateful wrapper over the tracker registry (``pytracking.tracker.base.TRACKERS``): it
builds the tracker from (name, config, checkpoint) the same way the benchmark runner does, checks
every output for one finite ``x, y, w, h`` box, and keeps the tracker's full last output dict.
Frames are RGB ``uint8`` ``H x W x 3`` arrays (or image paths); boxes are ``x, y, w, h`` floats.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ltr.data.image_io import imread
from pytracking.tracker.base import TRACKERS, BaseTracker, SequenceInfo

Box = tuple[float, float, float, float]


class TrackerAPIError(RuntimeError):
    """Misuse of the API (tracking before initialising) or a tracker output without a valid box."""


def produces_segmentation(cls: type[BaseTracker]) -> bool:
    """Whether a tracker class returns masks (its ``produces_segmentation`` class attribute)."""
    return bool(cls.produces_segmentation)


def as_image(image: np.ndarray | str | Path) -> np.ndarray:
    """An RGB ``uint8`` ``H x W x 3`` array from an array or an image path."""
    if isinstance(image, (str, Path)):
        return imread(image)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or min(image.shape[:2]) < 1:
        raise ValueError(f"expected an RGB uint8 H x W x 3 image, got dtype {image.dtype} shape {image.shape}")
    return image


def check_box(out: Any, name: str, frame: int) -> Box:
    """The ``target_bbox`` of a tracker output as 4 finite floats, else :class:`TrackerAPIError`."""
    box = out.get("target_bbox") if isinstance(out, dict) else None
    try:
        values = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        values = np.empty(0)
    if values.shape != (4,) or not np.isfinite(values).all():
        raise TrackerAPIError(f"tracker '{name}' frame {frame}: expected 'target_bbox' = 4 finite values, got {box!r}")
    return tuple(float(v) for v in values)  # type: ignore[return-value]


class TrackerHandle:
    """One tracker instance following one target: ``initialize`` then ``track`` per frame.

    ``last_output`` is the tracker's last full output dict (``target_bbox``, and when the tracker
    gives them ``score``, ``segmentation``, ``target_polygon``); ``frame`` counts frames seen.
    Calling ``initialize`` again restarts on a new target.
    """

    def __init__(self, name: str, impl: BaseTracker, seed: int = 0) -> None:
        self.name = name
        self.impl = impl
        self.seed = seed
        self.frame = -1
        self.sequence = SequenceInfo(dataset="api", name=name)
        self.last_output: dict[str, Any] = {}

    @property
    def produces_segmentation(self) -> bool:
        return produces_segmentation(type(self.impl))

    def initialize(self, image: np.ndarray | str | Path, box: Sequence[float], **info: Any) -> Box:
        """Start on ``box`` (``x, y, w, h``) in ``image``; extra ``info`` keys go to the tracker
        (e.g. ``init_region`` with a VOT polygon or mask; ``sequence``, a
        :class:`~pytracking.tracker.base.SequenceInfo`, defaults to dataset ``"api"``). Returns the
        initial box."""
        from pytracking.evaluation.validation import check_initial_box

        if isinstance(box, (str, bytes)) or any(isinstance(v, (str, bytes, bool, np.bool_)) for v in box):
            raise TypeError(f"initial box {box!r}: expected 4 numbers x, y, w, h")
        self.frame = -1  # a failed start leaves nothing to track
        init = check_box({"target_bbox": box}, self.name, 0)
        if init[2] <= 0 or init[3] <= 0:
            raise ValueError(f"initial box {box!r}: width and height must be positive")
        image = as_image(image)
        check_initial_box(np.asarray(init), image.shape[1], image.shape[0], f"tracker '{self.name}'")  # same rule as the runner
        self.sequence = info.pop("sequence", None) or SequenceInfo(dataset="api", name=self.name)
        out = self.impl.initialize(image, {"init_bbox": list(init), "seed": self.seed,
                                           "sequence": self.sequence, "frame": 0, **info}) or {}
        self.frame = 0
        self.last_output = {**out, "target_bbox": list(init)}
        return init

    def track(self, image: np.ndarray | str | Path, **info: Any) -> Box:
        """Locate the target in the next frame; returns ``(x, y, w, h)``."""
        if self.frame < 0:
            raise TrackerAPIError(f"tracker '{self.name}': call initialize(image, box) before track(image)")
        self.frame += 1
        out = self.impl.track(as_image(image), {"frame": self.frame, "sequence": self.sequence, **info})
        box = check_box(out, self.name, self.frame)
        self.last_output = dict(out)
        return box


def load_tracker(name: str, config: str | None = None, checkpoint: str | Path | None = None,
                 overrides: Sequence[str] = (), seed: int = 0) -> TrackerHandle:
    """Build registered tracker ``name`` with ``experiments/<name>/<config>.yaml`` (or a YAML path;
    None or ``"default"`` for trackers without parameters), optional weights and ``--set``-style
    ``overrides`` (``"key=value"``)."""
    cls = TRACKERS.get(name)
    if cls.params_schema is None and config == "default":
        config = None
    params = cls.load_params(name, config, list(overrides))
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint of tracker '{name}' not found")
    return TrackerHandle(name, cls(params, path), seed)


def available_trackers() -> list[str]:
    """Names of the registered trackers."""
    return TRACKERS.names()
