"""The segmentation step: crop around the predicted centre, run JCAT, find the regions.

Per call: D3S's ``sample_target`` crop (``search_area_scale · sqrt(w·h)``, whole pixels, edge
replication) around the given position is resized to the network input, the network gets the
official centre distance map, the target probability is thresholded and the regions are found
with ``cv2.findContours``. The result carries the largest region (or, for sequences
initialised from a mask, all regions), every region's area (for the memory bank's
segmentation hard negatives and the tracker's area checks) and the mean probability inside
the largest region (the project's mask confidence). Turning it into a box is the tracker's
job (:mod:`pytracking.tracker.jcat.bbox_fit`).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch

from ltr.data.boxes import CropTransform
from ltr.data.labels import distance_map
from ltr.models.inference import input_memory_format
from ltr.models.jcat.experiment import SegmentationConfig
from ltr.models.jcat.network import JcatNet
from ltr.models.precision import autocast_context
from pytracking.tracker.jcat.crops import resized_window, sample_target, to_network_input
from pytracking.tracker.jcat.memory import MemorySample

RotatedRect = tuple[tuple[float, float], tuple[float, float], float]  # cv2: (centre, size, angle)


def largest_contour(mask: np.ndarray) -> np.ndarray | None:
    """The outer contour (N, 1, 2) of the largest connected region of a binary mask, or None."""
    contours, _ = cv2.findContours((mask > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    return max(contours, key=lambda c: (cv2.contourArea(c), len(c)))


def fill_contour(contour: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """uint8 {0, 1} mask of ``shape`` with the contour's region filled (all zero for None)."""
    mask = np.zeros(shape, np.uint8)
    if contour is not None:
        cv2.drawContours(mask, [contour], -1, 1, thickness=cv2.FILLED)
    return mask


def contour_box(contour: np.ndarray) -> np.ndarray:
    """Axis-aligned box ``x, y, w, h`` (continuous pixels) covering every pixel of the contour."""
    return np.asarray(cv2.boundingRect(contour), dtype=np.float64)


def contour_rotated_rect(contour: np.ndarray) -> RotatedRect:
    """Minimum-area rectangle covering the contour's pixels (continuous coordinates).

    ``cv2.minAreaRect`` fits the pixel centres; moving the centre by half a pixel and growing
    each side by one pixel makes it cover whole pixels, so an axis-aligned rectangle mask gives
    back exactly its box.
    """
    (cx, cy), (w, h), angle = cv2.minAreaRect(contour.reshape(-1, 2).astype(np.float32))
    return (cx + 0.5, cy + 0.5), (w + 1.0, h + 1.0), float(angle)


def mask_to_box(mask: np.ndarray) -> np.ndarray | None:
    """Axis-aligned box of the largest region of ``mask`` (None when empty)."""
    contour = largest_contour(mask)
    return None if contour is None else contour_box(contour)


def mask_to_rotated_rect(mask: np.ndarray) -> RotatedRect | None:
    """Rotated rectangle ``((cx, cy), (w, h), angle)`` of the largest region of ``mask`` (None when empty)."""
    contour = largest_contour(mask)
    return None if contour is None else contour_rotated_rect(contour)


def rect_corners(rect: RotatedRect) -> np.ndarray:
    """The rectangle's four corners (4, 2)."""
    return cv2.boxPoints(rect).astype(np.float64)


def rasterize_region(region: Sequence[float], shape: tuple[int, int]) -> np.ndarray:
    """uint8 mask of a box ``x, y, w, h`` or a polygon ``x1, y1, ..., xn, yn``; never empty.

    A box covers the pixels whose centres lie in ``[x, x+w) × [y, y+h)``; a polygon is filled by
    ``cv2.fillPoly`` (sub-pixel vertices, boundary included). A region smaller than a pixel keeps
    the pixel under its centre, so even a sub-pixel target gives a reference mask.
    """
    values = np.asarray(region, dtype=np.float64).reshape(-1)
    mask = np.zeros(shape, np.uint8)
    if values.size == 4:
        x, y, w, h = values
        x0, x1 = (int(np.clip(math.ceil(v - 0.5), 0, shape[1])) for v in (x, x + w))
        y0, y1 = (int(np.clip(math.ceil(v - 0.5), 0, shape[0])) for v in (y, y + h))
        mask[y0:y1, x0:x1] = 1
        center = np.array([x + w / 2, y + h / 2])
    else:
        points = values.reshape(-1, 2)
        shift = 4  # fixed-point bits for sub-pixel vertices; pixel centres at integer coordinates
        cv2.fillPoly(mask, [np.round((points - 0.5) * (1 << shift)).astype(np.int32)], 1, shift=shift)
        center = points.mean(axis=0)
    if not mask.any():
        cx, cy = np.clip(np.floor(center), 0, np.array(shape[::-1]) - 1).astype(int)
        mask[cy, cx] = 1
    return mask


@dataclass
class SegmentationResult:
    """One frame's segmentation, in the network crop (``transform`` maps it to the frame)."""

    crop_mask: np.ndarray  # S×S uint8 {0, 1}: the largest region (every region with keep_all)
    region_mask: np.ndarray  # S×S uint8 {0, 1}: the largest region only
    features: dict[str, torch.Tensor]  # backbone features of the crop (for the memory bank)
    transform: CropTransform
    areas: list[float]  # cv2.contourArea of every region, largest first
    contour: np.ndarray | None  # the largest region's contour (crop pixel indices)
    confidence: float  # mean target probability inside the largest region (0 when empty)

    @property
    def largest_area(self) -> float:
        return self.areas[0] if self.areas else 0.0

    def second_region_ratio(self) -> float:
        """Area of the second-largest region over the largest (0 with fewer than two)."""
        return self.areas[1] / self.areas[0] if len(self.areas) > 1 and self.areas[0] > 0 else 0.0

    def frame_mask(self, height: int, width: int) -> np.ndarray:
        """``crop_mask`` resampled into the H×W frame (uint8 {0, 1})."""
        t = self.transform
        warped = cv2.warpAffine(self.crop_mask.astype(np.float32), t.affine(), (width, height),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return (warped >= 0.5).astype(np.uint8)

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Continuous crop coordinates (N, 2) -> frame coordinates."""
        t = self.transform
        return np.asarray(points, dtype=np.float64) / t.scale + np.array([t.x0, t.y0])


class TargetSegmenter:
    """Holds the first-frame reference and segments later frames with a :class:`JcatNet`.

    Crops are D3S's ``sample_target`` (:func:`~pytracking.tracker.jcat.crops.sample_target`);
    the distance map is the official ``create_dist``: distances from pixel index S/2 − 1 in
    each axis (continuous S/2 − 0.5), half a pixel before the crop centre.
    """

    def __init__(self, net: JcatNet, cfg: SegmentationConfig, device: torch.device, amp: bool = False) -> None:
        self.net = net
        self.cfg = cfg
        self.device = torch.device(device)
        self.amp = amp  # network calls under autocast (tracking.amp)
        centre = cfg.output_size / 2 - 0.5
        self.dist = torch.from_numpy(distance_map((centre, centre), cfg.output_size)).to(device)[None]
        self.threshold = cfg.threshold

    @property
    def memory_format(self) -> torch.memory_format:
        """The layout the network's inference paths want its input crops in."""
        return input_memory_format(self.net)

    def _autocast(self) -> contextlib.AbstractContextManager:
        """The network's precision context (``tracking.amp``)."""
        return autocast_context(self.device, self.amp, "tracking.amp")

    def _crop(self, image: np.ndarray, center: np.ndarray, size: np.ndarray, factor: float) -> tuple[np.ndarray, CropTransform]:
        return sample_target(image, center, size, factor, self.cfg.output_size, off_by_one=self.cfg.crop_off_by_one)

    def initialize(self, image: np.ndarray, center: np.ndarray, size: np.ndarray, mask: np.ndarray,
                   from_init_mask: bool) -> float:
        """Reference features and mask from the initial frame; returns the reference mask's area (crop px).

        ``mask`` (H×W {0, 1}): the rasterised initial box or polygon, or a given initial mask
        (``from_init_mask``: used as is, and the threshold becomes ``init_mask_threshold``).
        Otherwise, with ``refine_reference``, the reference is the network's segmentation of
        the reference crop (against the box mask, threshold ``init_threshold``) × the box
        mask dilated by a ``max(5, round(0.05·min(w, h)·scale))`` square (official).
        """
        cfg = self.cfg
        crop, transform = self._crop(image, center, size, cfg.search_area_scale)
        side = round(cfg.output_size / transform.scale)
        mask_crop = resized_window(mask.astype(np.float32), int(transform.x0), int(transform.y0), side,
                                   cfg.output_size, replicate=False, off_by_one=cfg.crop_off_by_one)
        with self._autocast():
            ref_features = self.net.extract_features(to_network_input(crop, self.device, self.memory_format))
        self.threshold = cfg.init_mask_threshold if from_init_mask else cfg.threshold
        if from_init_mask:
            ref = (mask_crop > 0.1).astype(np.float32)
        elif cfg.refine_reference:
            box_mask = torch.from_numpy(mask_crop).to(self.device)[None]
            with self._autocast():
                logits = self.net.segment(ref_features, ref_features, box_mask, self.dist)
            prob = torch.softmax(logits.float(), dim=1)[0, 0].cpu().numpy()
            kernel = max(5, int(round(0.05 * float(min(size)) * transform.scale)))
            dilated = cv2.dilate(mask_crop, np.ones((kernel, kernel), np.uint8), iterations=1)
            ref = (prob > cfg.init_threshold).astype(np.float32) * dilated
        else:
            ref = mask_crop
        self.ref_mask = torch.from_numpy(np.ascontiguousarray(ref, dtype=np.float32)).to(self.device)[None]
        with self._autocast():
            self.reference = self.net.prepare_reference(ref_features, self.ref_mask)
        return float(ref.sum())

    def prepare_memory(self, features: dict[str, torch.Tensor], mask: torch.Tensor) -> MemorySample:
        """A memory-bank sample from a crop's features and its (1, S, S) mask, prepared once for every later frame."""
        with self._autocast():
            return self.net.prepare_memory(features, mask)

    def segment(self, image: np.ndarray, center: np.ndarray, size: np.ndarray,
                memory: Sequence[MemorySample] = (), factor: float | None = None,
                keep_all: bool = False) -> SegmentationResult:
        """Segment the target in a ``factor``× crop around ``center`` (x, y) for a target of ``size`` (w, h)."""
        crop, transform = self._crop(image, center, size, factor or self.cfg.search_area_scale)
        with self._autocast():
            features = self.net.extract_features(to_network_input(crop, self.device, self.memory_format))
            logits = self.net.segment_prepared(features, self.reference, self.dist, list(memory))
        prob = torch.softmax(logits.float(), dim=1)[0, 0].cpu().numpy()
        binary = (prob > self.threshold).astype(np.uint8)
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        order = sorted(range(len(contours)), key=lambda i: -cv2.contourArea(contours[i]))
        areas = [float(cv2.contourArea(contours[i])) for i in order]
        contour = contours[order[0]] if contours else None
        region = fill_contour(contour, binary.shape)
        crop_mask = region
        if keep_all and contours:
            crop_mask = np.zeros_like(binary)
            cv2.drawContours(crop_mask, contours, -1, 1, thickness=cv2.FILLED)
        confidence = float(prob[region > 0].mean()) if contour is not None and region.any() else 0.0
        return SegmentationResult(crop_mask=crop_mask, region_mask=region, features=features, transform=transform,
                                  areas=areas, contour=contour, confidence=confidence)
