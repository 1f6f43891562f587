"""The Tracker wrapper: builds a registered tracker from (name, config, checkpoint) and runs it.

It owns everything around the tracker's ``initialize``/``track`` calls: image reading, timing,
seeding, passing ground truth only to trackers that declare ``needs_ground_truth``, optional
visualisation to image files, and the guarantee that the output holds exactly one finite box
per frame (a NaN or malformed box raises :class:`TrackerOutputError` instead of being written).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from ltr.config.loader import to_dict
from ltr.data.image_io import imread
from pytracking.evaluation.sequence import Sequence
from pytracking.tracker.base import TRACKERS, BaseTracker


class TrackerOutputError(RuntimeError):
    """A tracker returned something other than one finite ``x, y, w, h`` box for a frame."""


def file_sha256(path: str) -> str:
    """SHA-256 of a file (checkpoints: identifies the exact weights used for a result); cached
    per path, size and modification time, so a rewritten file is hashed again."""
    stat = os.stat(path)
    return _sha256(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def config_hash(params: Any) -> str:
    """Short stable hash of resolved parameters (dataclass or None)."""
    plain = to_dict(params) if params is not None else None
    return hashlib.sha256(json.dumps(plain, sort_keys=True, default=str).encode()).hexdigest()[:12]


def results_folder_name(config: str | None, overrides: Sequence[str], checkpoint: str | None,
                        params_hash: str) -> str:
    """The config's name, plus a hash of the resolved parameters (and the checkpoint path) when
    overridden or given a checkpoint, so runs of one config with other settings or weights never
    share (and resume into) one folder. Needs no checkpoint file: analysis runs without one."""
    base = Path(config).stem if config else "default"
    if not overrides and not checkpoint:
        return base
    if not checkpoint:
        return f"{base}-{params_hash[:8]}"
    return f"{base}-{hashlib.sha256(f'{params_hash}|{checkpoint}'.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class TrackerSpec:
    """A picklable description of a tracker configuration (what worker processes rebuild)."""

    name: str
    config: str | None = None
    checkpoint: str | None = None
    overrides: tuple[str, ...] = field(default_factory=tuple)
    display_name: str | None = None


class Tracker:
    """A configured tracker: ``Tracker(TrackerSpec('static')).run_sequence(seq)``.

    The tracker instance is built on first use and reused for every sequence (its ``initialize``
    resets it), so network weights load once per process.
    """

    def __init__(self, spec: TrackerSpec) -> None:
        self.spec = spec
        self.cls: type[BaseTracker] = TRACKERS.get(spec.name)
        self.params = self.cls.load_params(spec.name, spec.config, spec.overrides)
        self.config_hash = config_hash(self.params)
        self.checkpoint = Path(spec.checkpoint) if spec.checkpoint else None
        if self.checkpoint is not None and not self.checkpoint.is_file():
            raise FileNotFoundError(f"{self.checkpoint}: checkpoint of tracker '{spec.name}' not found")
        self._impl: BaseTracker | None = None

    @property
    def config_name(self) -> str:
        """Results folder name of this configuration (see :func:`results_folder_name`)."""
        return results_folder_name(self.spec.config, self.spec.overrides, self.spec.checkpoint, self.config_hash)

    @property
    def display_name(self) -> str:
        return self.spec.display_name or (self.spec.name if self.config_name == "default"
                                          else f"{self.spec.name}/{self.config_name}")

    @property
    def weights_file(self) -> Path | None:
        """The weights this configuration tracks with: the explicit checkpoint, else the one its
        parameters name (resolved as the trackers resolve it), else None (random init / no net)."""
        if self.checkpoint is not None:
            return self.checkpoint
        named = self.cls.params_checkpoint(self.params)
        if not named:
            return None
        from pytracking.tracker.base.network import resolve_checkpoint

        path = resolve_checkpoint(named)
        return path if path.is_file() else None  # an ONNX export folder is not hashed

    def metadata(self) -> dict[str, Any]:
        """Facts about this configuration for the results sidecar."""
        weights = self.weights_file
        return {
            "tracker": self.spec.name,
            "display_name": self.display_name,
            "config": self.config_name,
            "config_hash": self.config_hash,
            "params": to_dict(self.params) if self.params is not None else None,
            "overrides": list(self.spec.overrides),
            "checkpoint": str(weights) if weights else None,
            "checkpoint_sha256": file_sha256(str(weights.resolve())) if weights else None,
        }

    def _tracker(self) -> BaseTracker:
        if self._impl is None:
            self._impl = self.cls(self.params, self.checkpoint)
        return self._impl

    def run_sequence(self, seq: Sequence, seed: int = 0, visualize_dir: Path | None = None) -> dict[str, Any]:
        """Track ``seq`` from its first-frame box.

        Returns ``boxes`` (N x 4 float64, frame 1 = the initial box), ``times`` (N seconds, frame 1
        = initialisation), ``scores`` (N, NaN where the tracker gave none) and ``segmentation``
        (N x H x W uint8, or None when the tracker produced no masks).
        """
        _seed_everything(seed)
        init = seq.init_info()
        if not np.isfinite(init["init_bbox"]).all():
            raise ValueError(f"{seq.name}: the first frame has no ground-truth box to initialise from")
        tracker = self._tracker()
        boxes, times, scores, masks = [], [], [], []
        seq_info = seq.tracker_info()
        for i, frame in enumerate(seq.frames):
            image = imread(frame, use_jpeg4py=False)  # one decoder everywhere: jpeg4py exists only where
            # libturbojpeg is installed, in the system's version, so it would make results machine-dependent
            info: dict[str, Any] = {"frame": i, "sequence": seq_info}
            if self.cls.needs_ground_truth:
                info["gt_bbox"] = seq.ground_truth[i].tolist()
            start = time.perf_counter()
            if i == 0:
                out = tracker.initialize(image, {**init, **info, "seed": seed}) or {}
                out = {**out, "target_bbox": init["init_bbox"]}
            else:
                out = tracker.track(image, info)
            times.append(time.perf_counter() - start)
            boxes.append(self._check_box(out, seq.name, i))
            scores.append(float(out.get("score", np.nan)))
            masks.append(out.get("segmentation"))
            if visualize_dir is not None:
                _draw(image, boxes[-1], Path(visualize_dir) / seq.name / f"{i + 1:08d}.jpg")
        return {"boxes": np.asarray(boxes), "times": np.asarray(times), "scores": np.asarray(scores),
                "segmentation": _stack_masks(masks, seq.name)}

    def _check_box(self, out: dict[str, Any], seq: str, frame: int) -> list[float]:
        box = out.get("target_bbox") if isinstance(out, dict) else None
        where = f"tracker '{self.spec.name}' on {seq} frame {frame + 1}"
        if box is None:
            raise TrackerOutputError(f"{where}: no 'target_bbox' in the output {out!r}")
        try:
            values = np.asarray(box, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise TrackerOutputError(f"{where}: 'target_bbox' is not numeric: {box!r}") from None
        if values.shape != (4,) or not np.isfinite(values).all():
            raise TrackerOutputError(f"{where}: expected 4 finite values x, y, w, h, got {box!r}")
        return values.tolist()


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    cv2.setRNGSeed(seed % 2**31)
    if "torch" in sys.modules:  # only trackers that use torch pay for seeding it
        sys.modules["torch"].manual_seed(seed)


def _stack_masks(masks: list[Any], seq: str) -> np.ndarray | None:
    present = [m is not None for m in masks]
    if not any(present):
        return None
    if not all(present[1:]):
        raise TrackerOutputError(f"{seq}: the tracker returned 'segmentation' on some frames only")
    first = masks[1] if len(masks) > 1 else masks[0]
    masks = [np.zeros_like(first, dtype=np.uint8) if m is None else np.asarray(m, dtype=np.uint8) for m in masks]
    return np.stack(masks)


def _draw(image: np.ndarray, box: list[float], path: Path) -> None:
    """Write ``image`` with ``box`` drawn (OpenCV here is headless: files, not windows)."""
    x, y, w, h = (round(v) for v in box)
    canvas = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    cv2.rectangle(canvas, (x, y), (x + w, y + h), (0, 255, 0), 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), canvas)
