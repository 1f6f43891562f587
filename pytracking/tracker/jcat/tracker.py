"""The online JCAT tracker (D3S-style): a correlation filter localises, JCAT segments, the mask gives the box.

Per frame (jcat.md "Online tracker"):

1. the filter's response on the search area (4.5× the target) gives a position and a flag
   (normal / hard negative / uncertain / not found);
2. the sample filter computes the uncertainty ``u`` from the response maximum;
3. when ``u < 10`` JCAT segments a 4.0× crop around that position (first-frame reference plus
   the memory bank) and the mask's largest region gives the box and a confidence;
4. when ``u < 3`` position and size follow the mask (size change bounded to [0.95, 1.05] per
   frame); the filter's sample memory is updated when also ``c > 0.15`` (hard negatives with a
   higher learning rate and an immediate CG refinement; otherwise CG every 10 frames);
5. the memory bank takes the frame's features and mask on its schedule.

Every frame returns ``target_bbox`` (finite), ``segmentation`` (the full-frame mask, zeros when
not segmented) and ``score`` (the filter's response maximum); with ``box_mode: rotated`` also
``target_polygon`` (4 corners, x1, y1, ..., x4, y4) for VOT.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ltr.data.boxes import crop_side_for_box
from ltr.models.jcat.experiment import JcatExperiment
from ltr.models.jcat.network import JcatNet, jcat_kwargs
from pytracking.tracker.base import TRACKERS, BaseTracker
from pytracking.tracker.base.frames import as_rgb
from pytracking.tracker.base.network import choose_device, load_tracker_network
from pytracking.tracker.jcat.crops import square_crop, to_network_input
from pytracking.tracker.jcat.dcf import (
    CorrelationFilter,
    Localization,
    normalize_features,
)
from pytracking.tracker.jcat.memory import SegmentationMemory
from pytracking.tracker.jcat.sample_filter import SampleFilter
from pytracking.tracker.jcat.segmentation import (
    SegmentationResult,
    TargetSegmenter,
    rasterize_region,
    rect_corners,
)

logger = logging.getLogger(__name__)


def load_network(params: JcatExperiment, checkpoint: Path | None) -> JcatNet:
    """The net from ``checkpoint`` (or ``tracking.checkpoint``); random init from ``model`` otherwise."""
    return load_tracker_network("jcat", checkpoint or params.tracking.checkpoint, JcatNet, jcat_kwargs(params.model))


@TRACKERS.register("jcat")
class JcatTracker(BaseTracker):
    """JCAT's online tracker; parameters are the ``tracking:`` section of ``experiments/jcat/*.yaml``."""

    params_schema = JcatExperiment
    produces_segmentation = True

    def __init__(self, params: JcatExperiment | None = None, checkpoint: Path | None = None) -> None:
        super().__init__(params or JcatExperiment(), checkpoint)
        self.cfg = self.params.tracking
        self.device = choose_device(self.cfg.device)
        self.net = load_network(self.params, checkpoint).to(self.device).eval()

    # ------------------------------------------------------------------ geometry
    def _box(self) -> list[float]:
        return [float(v) for v in (*(self.pos - self.size / 2), *self.size)]

    def _clamp_state(self, pos: np.ndarray, size: np.ndarray) -> None:
        """Accept a new state when finite; keep the centre inside the frame and the size in [min, frame]."""
        if not (np.isfinite(pos).all() and np.isfinite(size).all()):
            return
        frame = np.array([self.width, self.height], dtype=np.float64)
        self.pos = np.clip(pos, 0.0, frame)
        self.size = np.clip(size, self.cfg.min_target_size, np.maximum(frame, self.cfg.min_target_size))

    def _dcf_crop(self, image: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, float]:
        """Search-area crop at ``pos`` for the current size, and the crop side in frame pixels."""
        side = crop_side_for_box(np.array([0.0, 0.0, *self.size]), self.cfg.dcf.search_area_scale)
        crop, _ = square_crop(image, pos, side, self.cfg.dcf.sample_size)
        return crop, side

    def _filter_features(self, crops: np.ndarray) -> torch.Tensor:
        return normalize_features(self.net.extract_features(to_network_input(crops, self.device))["layer3"]).float()

    def _target_cells(self, side: float) -> tuple[float, float]:
        """Target (height, width) in feature cells of a search crop of ``side`` frame pixels."""
        cell = self.cfg.dcf.feature_stride * side / self.cfg.dcf.sample_size
        return float(self.size[1] / cell), float(self.size[0] / cell)

    # ------------------------------------------------------------------ API
    @torch.inference_mode()
    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        image = as_rgb(image)
        self.height, self.width = image.shape[:2]
        box = np.asarray(info["init_bbox"], dtype=np.float64)
        if box.shape != (4,) or not np.isfinite(box).all():
            raise ValueError(f"init_bbox must be 4 finite values x, y, w, h, got {info['init_bbox']!r}")
        self.pos, self.size = box[:2] + box[2:] / 2, box[2:].copy()
        self._clamp_state(self.pos, self.size)
        self.frame = 0
        mask = info.get("init_mask")
        if mask is None:
            region = info.get("init_region")
            region = region if region is not None and len(region) >= 6 else box
            mask = rasterize_region(region, (self.height, self.width))
        self.segmenter = TargetSegmenter(self.net, self.cfg.segmentation, self.device)
        self.segmenter.initialize(image, self.pos, self.size, (np.asarray(mask) > 0).astype(np.uint8))
        self.memory = SegmentationMemory(self.cfg.memory)
        self.sample_filter = SampleFilter(self.cfg.sample_filter)
        self._init_filter(image)
        self.polygon = rect_corners((tuple(self.pos), tuple(self.size), 0.0))
        return {"target_bbox": self._box()}

    def _init_filter(self, image: np.ndarray) -> None:
        dcf_cfg = self.cfg.dcf
        crop, side = self._dcf_crop(image, self.pos)
        crops = np.stack([crop, crop[:, ::-1]]) if dcf_cfg.flip_augmentation else crop[None]
        features = self._filter_features(crops)
        self.dcf = CorrelationFilter(dcf_cfg, features.shape[-1])
        c = self.dcf.center_index
        label = self.dcf.label((c, c), math.sqrt(np.prod(self._target_cells(side))))
        self.dcf.initialize(features, label.expand(len(crops), -1, -1).clone())

    @torch.inference_mode()
    def track(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        image = as_rgb(image)
        if image.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame size {image.shape[1]}x{image.shape[0]} differs from the initial "
                             f"{self.width}x{self.height}")
        self.frame += 1
        crop, side = self._dcf_crop(image, self.pos)
        features = self._filter_features(crop[None])
        loc = self.dcf.localize(self.dcf.response(features), self._target_cells(side))
        cell = self.cfg.dcf.feature_stride * side / self.cfg.dcf.sample_size
        search_center = self.pos.copy()
        dcf_pos = search_center + np.array([loc.displacement[1], loc.displacement[0]]) * cell

        uncertainty = self.sample_filter.uncertainty(self.frame, loc.score)
        seg = None
        if self.sample_filter.should_segment(uncertainty):
            seg = self.segmenter.segment(image, dcf_pos, self.size, self.memory.samples())
        decision = self.sample_filter.decide(uncertainty, loc.score, seg.confidence if seg else None)
        if decision.update_state:
            self._update_state(loc, dcf_pos, seg)
        hard_negative = loc.flag == "hard_negative"
        if decision.update_filter and loc.flag in ("normal", "hard_negative"):
            self._update_filter(features, search_center, cell, hard_negative, side)
        if seg is not None and seg.box is not None and self.memory.should_add(self.frame, hard_negative, uncertainty):
            self.memory.add(seg.features, seg.crop_mask[None])

        mask = seg.mask if seg is not None else np.zeros((self.height, self.width), np.uint8)
        out = {"target_bbox": self._box(), "segmentation": mask,
               "score": loc.score if math.isfinite(loc.score) else 0.0}
        if self.cfg.segmentation.box_mode == "rotated":
            out["target_polygon"] = self.polygon.reshape(-1).tolist()
        return out

    def _update_state(self, loc: Localization, dcf_pos: np.ndarray, seg: SegmentationResult | None) -> None:
        """Position and size from the mask (bounded size change), else the filter's position."""
        seg_cfg = self.cfg.segmentation
        if seg is not None and seg.box is not None:
            ratio = np.clip(seg.box[2:] / self.size, seg_cfg.min_scale_change, seg_cfg.max_scale_change)
            size = self.size * ratio
            self._clamp_state(seg.box[:2] + seg.box[2:] / 2, size)
            center, rect_size, angle = seg.rect
            scale = size / np.maximum(seg.box[2:], 1e-6)  # the same bound applied to the rotated rectangle
            self.polygon = rect_corners((center, tuple(np.asarray(rect_size) * scale), angle))
        elif loc.flag != "not_found":
            self._clamp_state(dcf_pos, self.size)
            self.polygon = rect_corners((tuple(self.pos), tuple(self.size), 0.0))

    def _update_filter(self, features: torch.Tensor, search_center: np.ndarray, cell: float,
                       hard_negative: bool, side: float) -> None:
        """Add the search sample with its label at the new position; hard negatives train at once."""
        dcf_cfg = self.cfg.dcf
        offset = (self.pos - search_center) / cell
        c = self.dcf.center_index
        label = self.dcf.label((c + offset[1], c + offset[0]), math.sqrt(np.prod(self._target_cells(side))))
        rate = dcf_cfg.hard_negative_learning_rate if hard_negative else dcf_cfg.learning_rate
        self.dcf.add_sample(features, label, rate)
        if hard_negative:
            self.dcf.optimize_filter(dcf_cfg.hard_negative_cg_iters)
        elif self.frame % dcf_cfg.train_skipping == 0:
            self.dcf.optimize_filter(dcf_cfg.update_cg_iters)
