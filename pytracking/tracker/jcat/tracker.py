"""The online JCAT tracker (D3S-style): a correlation filter localises, JCAT segments, the mask gives the box.

Rule for rule the official tracker (Yang428/JCAT ``pytracking/tracker/Jcat/Jcat.py``; the VOT
differences of ``tracker/Jcat_vot`` are switches, set in ``experiments/jcat/default_vot.yaml``).
Per tracked frame ``t`` (1 = the first frame after the initial one):

1. the filter's response on a whole-pixel search crop of ``sample_size · target_scale``
   pixels around the previous position (Fourier-upsampled to one crop pixel per cell,
   Hann-windowed) gives the peak, a flag (normal / hard negative / uncertain / not found)
   and the response confidence ``smax·(smax−smin)²/mean((s−smin)²)``;
2. the sample filter gives ``u`` and ``c`` (:mod:`~pytracking.tracker.jcat.sample_filter`);
3. when ``u < 3`` the position moves to the peak (kept within 0.3 × the size outside the
   frame) and the size takes the current scale (which the previous frame's mask may have
   changed); with ``sample_filter.hold_position_uncertainty`` (a guard, off officially) a
   frame with ``u`` at or above it takes the previous position as its peak, so the search
   waits where the target was last seen instead of drifting after background peaks;
4. when ``u < 10`` (every frame for sequences initialised from a mask) JCAT segments a 4.0×
   crop around the peak; with a region over 50 px: a second region over 0.4 × the largest
   marks a segmentation hard negative; the region's area is compared to the mean of the last
   25 accepted areas (``r = |mean − a| / mean``); when ``u < 3.5`` and ``r < 2`` the area is
   accepted and one scale factor is estimated from the region's area-preserving box (bounded
   to [0.95, 1.05] × the current, used from the next frame; with ``segmentation.calibrate_scale``,
   a guard, each estimate is multiplied by the first frame's true scale over the estimate from
   the first frame's own segmentation); ``r < 1`` moves the position to
   the region's centre; ``r < 2`` reports ``fit_bbox_to_mask`` (when its area over the
   minimum-area rectangle's is in (0.1, 2.5), else that rectangle). Otherwise (no
   segmentation or no usable region) the position moves to the peak and the state box is
   reported;
5. when ``u < 3`` and ``c > 0.15`` the search sample (label at the new position) enters the
   filter's memory (hard negatives with learning rate 0.02); when ``u < 3`` the memory bank
   adds a sample on its schedule (:mod:`~pytracking.tracker.jcat.memory`);
6. the filter takes 5 CG iterations on every hard negative and every 10th frame.

Every frame returns ``target_bbox`` (finite), ``segmentation`` (the full-frame mask, zeros when
not segmented) and ``score`` (the filter's response maximum); with ``box_mode: rotated`` also
``target_polygon`` (4 corners, x1, y1, ..., x4, y4) for VOT.

Deliberate differences (documented in the tracker issue's closing note): coordinates are
continuous and every crop maps back through its exact transform, so the official ±1 px
conversions of 1-based annotations are not needed; crops of very large targets are not
pre-downsampled.
"""
from __future__ import annotations

import logging
import math
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ltr.admin.devices import resolve_device
from ltr.models.inference import input_memory_format, network_paths, optimize_for_inference
from ltr.models.jcat.backbone import JcatBackbone
from ltr.models.jcat.experiment import JcatExperiment
from ltr.models.jcat.network import JcatNet, jcat_kwargs
from ltr.models.precision import amp_dtype, autocast_context
from pytracking.tracker.base import TRACKERS, BaseTracker
from pytracking.tracker.base.frames import as_rgb, sequence_frame
from pytracking.tracker.base.network import load_tracker_network
from pytracking.tracker.jcat import augment
from pytracking.tracker.jcat.bbox_fit import fit_bbox_to_mask
from pytracking.tracker.jcat.crops import sample_patch, to_network_input
from pytracking.tracker.jcat.dcf import CorrelationFilter, normalize_features
from pytracking.tracker.jcat.memory import SegmentationMemory
from pytracking.tracker.jcat.sample_filter import NOT_FOUND_UNCERTAINTY, SampleFilter
from pytracking.tracker.jcat.segmentation import (
    SegmentationResult,
    TargetSegmenter,
    contour_box,
    contour_rotated_rect,
    rasterize_region,
    rect_corners,
)

logger = logging.getLogger(__name__)


def load_network(params: JcatExperiment, checkpoint: Path | None, autocast_dtype: torch.dtype | None = None) -> JcatNet:
    """The net from ``checkpoint`` (or ``tracking.checkpoint``); random init from ``model`` otherwise;
    with the inference fast paths (see :mod:`ltr.models.inference`)."""
    return load_tracker_network("jcat", checkpoint or params.tracking.checkpoint, JcatNet, jcat_kwargs(params.model),
                                autocast_dtype)


def polygon_area(corners: np.ndarray) -> float:
    """Area of a rectangle given by its 4 corners in order (|p0 p1| · |p1 p2|, as officially)."""
    return float(np.linalg.norm(corners[0] - corners[1]) * np.linalg.norm(corners[1] - corners[2]))


def area_preserving_box(corners: np.ndarray) -> np.ndarray:
    """Official ``poly_to_aabbox``: the min-max box of the corners scaled to the polygon's area
    (centre kept), ``x, y, w, h`` (continuous coordinates: no +1)."""
    cx, cy = corners.mean(axis=0)
    x1, y1 = corners.min(axis=0)
    x2, y2 = corners.max(axis=0)
    extent = max((x2 - x1) * (y2 - y1), 1e-12)
    s = math.sqrt(polygon_area(corners) / extent)
    w, h = s * (x2 - x1), s * (y2 - y1)
    return np.array([cx - w / 2, cy - h / 2, w, h])


@TRACKERS.register("jcat")
class JcatTracker(BaseTracker):
    """JCAT's online tracker; parameters are the ``tracking:`` section of ``experiments/jcat/*.yaml``."""

    params_schema = JcatExperiment
    produces_segmentation = True

    def __init__(self, params: JcatExperiment | None = None, checkpoint: Path | None = None) -> None:
        super().__init__(params or JcatExperiment(), checkpoint)
        self.cfg = self.params.tracking
        self.device = resolve_device(self.cfg.device)
        network_dtype = amp_dtype(self.device, self.cfg.amp, "tracking.amp")  # refuses a CPU without native bf16
        self.net = load_network(self.params, checkpoint, network_dtype).to(self.device).eval()
        self.filter_backbone: JcatBackbone | None = None
        if self.cfg.dcf.backbone == "separate":  # the official filter's own ImageNet ResNet-50
            backbone = JcatBackbone("resnet50", self.cfg.dcf.backbone_weights)
            self.filter_backbone = optimize_for_inference(backbone, network_paths(self.net)).to(self.device)

    @property
    def memory_format(self) -> torch.memory_format:
        """The layout the network's inference paths want its input crops in."""
        return input_memory_format(self.net)

    # ------------------------------------------------------------------ geometry
    def _box(self) -> list[float]:
        return [float(v) for v in (*(self.pos - self.size / 2), *self.size)]

    @property
    def _feature_size(self) -> int:
        return self.cfg.dcf.sample_size // self.cfg.dcf.feature_stride

    def _cell_px(self) -> float:
        """Frame pixels per feature cell of the current search crop."""
        return self.target_scale * self.cfg.dcf.sample_size / self._feature_size

    def _filter_features(self, crops: np.ndarray) -> torch.Tensor:
        batch = to_network_input(crops, self.device, self.memory_format)
        extractor = self.filter_backbone if self.filter_backbone is not None else self.net.extract_features
        with autocast_context(self.device, self.cfg.amp, "tracking.amp"):
            features = extractor(batch)["layer3"]
        return normalize_features(features.float())

    # ------------------------------------------------------------------ API
    @torch.inference_mode()
    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        image = as_rgb(image)
        self.height, self.width = image.shape[:2]
        box = np.asarray(info["init_bbox"], dtype=np.float64)
        if box.shape != (4,) or not np.isfinite(box).all():
            raise ValueError(f"init_bbox must be 4 finite values x, y, w, h, got {info['init_bbox']!r}")
        self.size = np.maximum(box[2:], self.cfg.min_target_size)
        self.pos = box[:2] + box[2:] / 2
        self.frame = 0
        dcf_cfg, seg_cfg = self.cfg.dcf, self.cfg.segmentation
        # search crop = sample_size · target_scale pixels (official: min = max image sample size)
        reference = dcf_cfg.image_sample_size or dcf_cfg.sample_size
        self.target_scale = math.sqrt(float(np.prod(self.size * dcf_cfg.search_area_scale))) / reference
        self.base_size = self.size / self.target_scale
        frame = np.array([self.width, self.height], dtype=np.float64)
        self.min_scale = float(np.max(10.0 / self.base_size))
        self.max_scale = max(float(np.min(frame / self.base_size)), self.min_scale)
        mask = info.get("init_mask")
        self.from_mask = mask is not None
        if mask is None:
            region = info.get("init_region")
            region = region if region is not None and len(region) >= 6 else box
            mask = rasterize_region(region, (self.height, self.width))
        self.scale_bounds = ((seg_cfg.init_mask_min_scale_change, seg_cfg.init_mask_max_scale_change)
                             if self.from_mask else (seg_cfg.min_scale_change, seg_cfg.max_scale_change))
        self.segmenter = TargetSegmenter(self.net, seg_cfg, self.device, self.cfg.amp)
        ref_area = self.segmenter.initialize(image, self.pos, self.size, (np.asarray(mask) > 0).astype(np.uint8),
                                             self.from_mask)
        self.areas: deque[float] = deque([ref_area], maxlen=seg_cfg.area_window)
        self.scale_calibration = 1.0
        if seg_cfg.calibrate_scale and not self.from_mask:
            first = self.segmenter.segment(image, self.pos, self.size)
            rect = self._largest_region_rect(first)
            if rect is not None:
                self.scale_calibration = self.target_scale / self._mask_scale(first.to_frame(rect))
        self.segm_hard_negative = False
        self.memory = SegmentationMemory(self.cfg.memory)
        self.sample_filter = SampleFilter(self.cfg.sample_filter)
        self._init_filter(image)
        self.polygon = rect_corners((tuple(self.pos), tuple(self.size), 0.0))
        return {"target_bbox": self._box()}

    def _label_sigma_cells(self) -> float:
        """Side of the (base) target in feature cells; σ = output_sigma_factor × this."""
        return math.sqrt(float(np.prod(self.base_size))) * self._feature_size / self.cfg.dcf.sample_size

    def _init_filter(self, image: np.ndarray) -> None:
        """Train projection and filter on the first frame's (augmented) samples."""
        dcf_cfg = self.cfg.dcf
        size, n = dcf_cfg.sample_size, self._feature_size
        if dcf_cfg.augmentation == "official":
            augs = augment.official_augmentations(size)
            expanded = augment.expanded_size(size)
            index = self.pos - 0.5  # pixel-index coordinates
            centre = np.round(index)  # official: the expanded crop at pos.round()
            big, _ = sample_patch(image, centre + 0.5, expanded * self.target_scale, expanded)
            samples = np.stack([augment.apply(a, big, size) for a in augs])
            offset = (index - centre) / self.target_scale * n / size  # (x, y) cells
        else:
            augs = augment.flip_augmentations() if dcf_cfg.augmentation == "flip" else [augment.Augmentation("identity")]
            crop, _ = sample_patch(image, self.pos, size * self.target_scale, size)
            samples = np.stack([augment.apply(a, crop, size) for a in augs])
            offset = np.zeros(2)
        features = self._filter_features(samples)
        if features.shape[-1] != n:  # the filter geometry would silently put the target elsewhere
            raise ValueError(f"tracking.dcf.feature_stride {dcf_cfg.feature_stride} does not match the network: a "
                             f"{size} px sample gives a {features.shape[-1]}-cell feature map, not {n} (set "
                             f"feature_stride to {size // features.shape[-1]})")
        self.dcf = CorrelationFilter(dcf_cfg, features.shape[-1])
        c = self.dcf.center_index
        sigma_cells = self._label_sigma_cells()
        labels = torch.stack([
            self.dcf.label((c + offset[1] + a.shift[0] * n / size, c + offset[0] + a.shift[1] * n / size), sigma_cells)
            for a in augs])
        self.dcf.initialize(features, labels.to(features.device))

    @torch.inference_mode()
    def track(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        image = sequence_frame(image, self.width, self.height, self.frame + 1)
        self.frame += 1
        t, cfg, sf = self.frame, self.cfg, self.sample_filter
        size, n = cfg.dcf.sample_size, self._feature_size
        sample_pos, cell = self.pos.copy(), self._cell_px()
        crop, _ = sample_patch(image, sample_pos, size * self.target_scale, size)
        features = self._filter_features(crop[None])
        cells = self.size / self.target_scale * n / size  # (w, h) of the target in cells
        loc = self.dcf.localize(self.dcf.response(features), (float(cells[1]), float(cells[0])))
        new_pos = sample_pos + np.array([loc.displacement[1], loc.displacement[0]]) * cell

        uncertainty = sf.uncertainty(t, loc.score)
        sf.add_response(uncertainty, loc.score)
        ratio = 1.0
        if sf.cfg.confidence == "response":
            ratio = sf.confidence_ratio(t, loc.confidence)
            sf.add_confidence(ratio, loc.confidence)
        if loc.flag == "not_found":
            uncertainty = NOT_FOUND_UNCERTAINTY
        self.uncertainty = uncertainty
        hold = sf.cfg.hold_position_uncertainty
        if hold is not None and uncertainty >= hold:
            new_pos = sample_pos.copy()

        if uncertainty < sf.cfg.max_uncertainty:
            self._update_state(new_pos)
        new_pos = np.clip(new_pos, 0.5, np.array([self.width, self.height]) - 0.5)  # pixel-index [0, W−1]

        seg: SegmentationResult | None = None
        corners = None
        if self.from_mask or uncertainty < sf.cfg.max_uncertainty_segmentation:
            seg = self.segmenter.segment(image, new_pos, self.size, self.memory.samples(), keep_all=self.from_mask)
            corners = self._mask_to_state(seg, new_pos)
        if corners is None:
            self.pos = new_pos.copy()
        if sf.cfg.confidence == "mask":
            confidence = seg.confidence if seg is not None else None
            ratio = sf.confidence_ratio(t, confidence)
            sf.add_confidence(ratio, confidence)
        decision = sf.decide(uncertainty, ratio)

        hard_negative = loc.flag == "hard_negative"
        if decision.update_filter and (not cfg.dcf.train_on_flag_only or loc.flag in ("normal", "hard_negative")):
            self._add_filter_sample(image, features, sample_pos, cell, hard_negative)
        if self.memory.should_add(t, hard_negative or self.segm_hard_negative, uncertainty):
            self.memory.mark(t)
            self._add_memory_sample(image, new_pos)
        if hard_negative:
            self.dcf.optimize_filter(cfg.dcf.hard_negative_cg_iters)
        elif t % cfg.dcf.train_skipping == 0:
            self.dcf.optimize_filter(cfg.dcf.update_cg_iters)

        if corners is not None:
            low, high = corners.min(axis=0), corners.max(axis=0)
            box = [float(v) for v in (*low, *(high - low))]
            self.polygon = corners
        else:
            box = self._box()
            self.polygon = rect_corners((tuple(self.pos), tuple(self.size), 0.0))
        mask = seg.frame_mask(self.height, self.width) if seg is not None else np.zeros((self.height, self.width), np.uint8)
        out = {"target_bbox": box, "segmentation": mask, "score": loc.score if math.isfinite(loc.score) else 0.0}
        if cfg.segmentation.box_mode == "rotated":
            out["target_polygon"] = self.polygon.reshape(-1).tolist()
        return out

    # ------------------------------------------------------------------ state
    def _update_state(self, new_pos: np.ndarray) -> None:
        """Official ``update_state``: size from the current scale, position kept near the frame."""
        self.target_scale = float(np.clip(self.target_scale, self.min_scale, self.max_scale))
        self.size = self.base_size * self.target_scale
        margin = self.cfg.dcf.position_margin * self.size
        self.pos = np.clip(new_pos, -margin, np.array([self.width, self.height]) + margin)

    def _mask_to_state(self, seg: SegmentationResult, center: np.ndarray) -> np.ndarray | None:
        """Position, scale and reported box from the segmentation; the box's corners (4, 2), or None."""
        seg_cfg = self.cfg.segmentation
        areas = seg.areas
        if len(areas) > 1 and areas[0] > seg_cfg.min_region_pixels:
            self.segm_hard_negative = seg.second_region_ratio() > seg_cfg.hard_negative_region_ratio
        rect_crop = self._largest_region_rect(seg)
        if rect_crop is None:
            return None
        if seg_cfg.scale_mode == "per_axis":
            return self._per_axis_state(seg)
        rect = seg.to_frame(rect_crop)
        fitted = fit_bbox_to_mask(seg.crop_mask, rotated=seg_cfg.box_mode == "rotated",
                                  min_area=seg_cfg.min_region_pixels)
        if fitted is not None:
            ratio = polygon_area(fitted) / max(polygon_area(rect_crop), 1e-12)
            fitted = seg.to_frame(fitted) if seg_cfg.fit_min_area_ratio < ratio < seg_cfg.fit_max_area_ratio else None
        mean_area = float(np.mean(self.areas))
        pixels_ratio = abs(mean_area - areas[0]) / mean_area if mean_area > 0 else math.inf
        if self.uncertainty < seg_cfg.scale_max_uncertainty and pixels_ratio < seg_cfg.report_area_ratio:
            self.areas.append(areas[0])
            scale = self._mask_scale(rect) * self.scale_calibration
            change = abs(scale - self.target_scale) / self.target_scale
            if scale > seg_cfg.min_scale and change < seg_cfg.max_rel_scale_change:
                low, high = self.scale_bounds
                self.target_scale = float(np.clip(scale, self.target_scale * low, self.target_scale * high))
        if pixels_ratio < seg_cfg.move_area_ratio:
            self.pos = rect.mean(axis=0)
        if pixels_ratio < seg_cfg.report_area_ratio:
            return fitted if fitted is not None else rect
        return None

    def _largest_region_rect(self, seg: SegmentationResult) -> np.ndarray | None:
        """Crop corners (4, 2) of the largest region's minimum-area rectangle; None when there is
        no region over ``segmentation.min_region_pixels``."""
        if not seg.areas or seg.areas[0] <= self.cfg.segmentation.min_region_pixels:
            return None
        return rect_corners(contour_rotated_rect(seg.contour))

    def _mask_scale(self, rect: np.ndarray) -> float:
        """The search-crop scale a mask implies from its largest region's minimum-area rectangle
        (frame corners, 4×2): the area-preserving box's side times ``dcf.search_area_scale`` over
        ``dcf.sample_size`` (official)."""
        aabb = area_preserving_box(rect)
        return math.sqrt(aabb[2] * aabb[3]) * self.cfg.dcf.search_area_scale / self.cfg.dcf.sample_size

    def _per_axis_state(self, seg: SegmentationResult) -> np.ndarray:
        """The project's variant: width and height follow the mask box at once, each bounded."""
        box = np.asarray(seg.transform.box_from_crop(contour_box(seg.contour)), dtype=np.float64)
        low, high = self.scale_bounds
        size = np.clip(self.size * np.clip(box[2:] / self.size, low, high), self.cfg.min_target_size, None)
        self.pos = box[:2] + box[2:] / 2
        self.size = size
        self.target_scale = math.sqrt(float(np.prod(size * self.cfg.dcf.search_area_scale))) / self.cfg.dcf.sample_size
        self.base_size = size / self.target_scale
        return rect_corners((tuple(self.pos), tuple(size), 0.0))

    # ------------------------------------------------------------------ models
    def _add_filter_sample(self, image: np.ndarray, features: torch.Tensor, sample_pos: np.ndarray,
                           cell: float, hard_negative: bool) -> None:
        """The search sample with its label at the new position (or, VOT, a new sample there)."""
        dcf_cfg = self.cfg.dcf
        c = self.dcf.center_index
        offset = (self.pos - sample_pos) / cell
        if dcf_cfg.resample_at_new_position:
            crop, _ = sample_patch(image, self.pos, dcf_cfg.sample_size * self.target_scale, dcf_cfg.sample_size)
            features = self._filter_features(crop[None])
            offset = np.zeros(2)
        label = self.dcf.label((c + offset[1], c + offset[0]), self._label_sigma_cells())
        rate = dcf_cfg.hard_negative_learning_rate if hard_negative else dcf_cfg.learning_rate
        self.dcf.add_sample(features, label.to(features.device), rate)

    def _add_memory_sample(self, image: np.ndarray, center: np.ndarray) -> None:
        """Official ``update_segm_sample``: an own (memory.crop_scale)× crop segmented with the bank;
        stored when its largest region exceeds ``memory.min_region_pixels``."""
        mem_cfg = self.cfg.memory
        seg = self.segmenter.segment(image, center, self.size, self.memory.samples(), factor=mem_cfg.crop_scale)
        if seg.areas and seg.areas[0] > mem_cfg.min_region_pixels:
            mask = torch.from_numpy(seg.region_mask.astype(np.float32)).to(self.device)
            self.memory.add(self.segmenter.prepare_memory(seg.features, mask[None]))
