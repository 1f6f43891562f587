"""The segmentation step: crop around the predicted centre, run JCAT, clean the mask, derive the box.

Per frame: a square crop of ``search_area_scale · sqrt(w·h)`` around the filter's position is
resized to the network input, the network gets the distance map from the crop centre (the
predicted position, as in training), the target probability is thresholded, and only the
largest contour is kept (``cv2.findContours``). From it come the full-frame mask, a confidence
(mean target probability inside the mask) for the sample filter and, when the region covers at
least ``min_mask_area`` of the expected target area (D3S's minimum), the axis-aligned box
(``cv2.boundingRect``) and the rotated rectangle (``cv2.minAreaRect``, VOT).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch

from ltr.data.boxes import CropTransform, crop_side_for_box
from ltr.data.labels import distance_map
from ltr.models.jcat.experiment import SegmentationConfig
from ltr.models.jcat.network import JcatNet
from pytracking.tracker.jcat.crops import square_crop, to_network_input
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
    """One frame's segmentation, in the frame and in the network crop."""

    mask: np.ndarray  # H×W uint8 {0, 1}: the largest region, in the frame
    crop_mask: torch.Tensor  # (S, S) float {0, 1} at the network resolution (for the memory bank)
    features: dict[str, torch.Tensor]  # backbone features of the crop (for the memory bank)
    box: np.ndarray | None  # axis-aligned x, y, w, h in the frame; None: no region large enough
    rect: RotatedRect | None  # rotated rectangle in the frame
    confidence: float  # mean target probability inside the mask (0 when empty)


class TargetSegmenter:
    """Holds the first-frame reference and segments later frames with a :class:`JcatNet`."""

    def __init__(self, net: JcatNet, cfg: SegmentationConfig, device: torch.device) -> None:
        self.net = net
        self.cfg = cfg
        self.device = device
        self.dist = torch.from_numpy(distance_map((cfg.output_size / 2, cfg.output_size / 2), cfg.output_size))
        self.dist = self.dist.to(device)[None]

    def _crop(self, image: np.ndarray, center: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, CropTransform]:
        side = crop_side_for_box(np.array([0.0, 0.0, size[0], size[1]]), self.cfg.search_area_scale)
        return square_crop(image, center, side, self.cfg.output_size)

    def initialize(self, image: np.ndarray, center: np.ndarray, size: np.ndarray, mask: np.ndarray) -> None:
        """Reference features and mask from the initial frame (``mask``: H×W {0, 1})."""
        crop, transform = self._crop(image, center, size)
        mask_crop = cv2.warpAffine(mask.astype(np.float32), transform.affine(), (transform.output_size,) * 2,
                                   flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        self.ref_features = self.net.extract_features(to_network_input(crop, self.device))
        self.ref_mask = torch.from_numpy(mask_crop).to(self.device)[None]

    def segment(self, image: np.ndarray, center: np.ndarray, size: np.ndarray,
                memory: Sequence[MemorySample] = ()) -> SegmentationResult:
        """Segment the target around ``center`` (x, y) for a target of ``size`` (w, h)."""
        crop, transform = self._crop(image, center, size)
        features = self.net.extract_features(to_network_input(crop, self.device))
        logits = self.net.segment(features, self.ref_features, self.ref_mask, self.dist, list(memory) or None)
        prob = torch.softmax(logits.float(), dim=1)[0, 0]
        prob_np = prob.cpu().numpy()
        contour = largest_contour(prob_np > self.cfg.threshold)
        crop_mask = fill_contour(contour, prob_np.shape)
        confidence = float(prob_np[crop_mask > 0].mean()) if contour is not None else 0.0
        height, width = image.shape[:2]
        frame_mask = cv2.warpAffine(crop_mask.astype(np.float32), transform.affine(), (width, height),
                                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        box = rect = None
        expected_area = (self.cfg.output_size / self.cfg.search_area_scale) ** 2
        if contour is not None and cv2.contourArea(contour) >= self.cfg.min_mask_area * expected_area:
            box = np.asarray(transform.box_from_crop(contour_box(contour)), dtype=np.float64)
            (cx, cy), (w, h), angle = contour_rotated_rect(contour)
            s = transform.scale
            rect = ((cx / s + transform.x0, cy / s + transform.y0), (w / s, h / s), angle)
        return SegmentationResult(
            mask=(frame_mask >= 0.5).astype(np.uint8),
            crop_mask=torch.from_numpy(crop_mask.astype(np.float32)).to(self.device),
            features=features, box=box, rect=rect, confidence=confidence,
        )
