"""Box utilities, the one place for box conventions.

A box is ``x, y, w, h`` in image pixels, continuous: it covers ``[x, x+w) × [y, y+h)``.
Functions take arrays (numpy or torch) whose last axis has 4 values and return the same kind.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch

Boxes = Any  # np.ndarray | torch.Tensor with last axis of size 4


def _stack(parts: list, like: Boxes) -> Boxes:
    if isinstance(like, torch.Tensor):
        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def _split(b: Boxes) -> tuple:
    return b[..., 0], b[..., 1], b[..., 2], b[..., 3]


def xywh_to_xyxy(b: Boxes) -> Boxes:
    """``x, y, w, h`` -> ``x1, y1, x2, y2``."""
    x, y, w, h = _split(b)
    return _stack([x, y, x + w, y + h], b)


def xyxy_to_xywh(b: Boxes) -> Boxes:
    """``x1, y1, x2, y2`` -> ``x, y, w, h``."""
    x1, y1, x2, y2 = _split(b)
    return _stack([x1, y1, x2 - x1, y2 - y1], b)


def xywh_to_cxcywh(b: Boxes) -> Boxes:
    """``x, y, w, h`` -> centre ``cx, cy, w, h``."""
    x, y, w, h = _split(b)
    return _stack([x + 0.5 * w, y + 0.5 * h, w, h], b)


def cxcywh_to_xywh(b: Boxes) -> Boxes:
    """Centre ``cx, cy, w, h`` -> ``x, y, w, h``."""
    cx, cy, w, h = _split(b)
    return _stack([cx - 0.5 * w, cy - 0.5 * h, w, h], b)


def box_area(b: Boxes) -> Boxes:
    """Area ``w·h``, with negative sizes counted as 0."""
    _, _, w, h = _split(b)
    if isinstance(b, torch.Tensor):
        return w.clamp(min=0) * h.clamp(min=0)
    return np.maximum(w, 0) * np.maximum(h, 0)


def box_iou(a: Boxes, b: Boxes) -> Boxes:
    """Element-wise continuous IoU of matching boxes (broadcasts); 0 when the union is empty."""
    ax1, ay1, ax2, ay2 = _split(xywh_to_xyxy(a))
    bx1, by1, bx2, by2 = _split(xywh_to_xyxy(b))
    if isinstance(a, torch.Tensor):
        iw = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp(min=0)
        ih = (torch.minimum(ay2, by2) - torch.maximum(ay1, by1)).clamp(min=0)
        inter = iw * ih
        union = box_area(a) + box_area(b) - inter
        return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(union))
    iw = np.maximum(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0)
    ih = np.maximum(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0)
    inter = iw * ih
    union = box_area(a) + box_area(b) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def clip_box(b: Boxes, width: float, height: float, margin: float = 0.0) -> Boxes:
    """Clip boxes to the image, keeping at least ``margin`` pixels of each box inside.

    With ``margin=0`` this is the intersection with the image (a box fully outside gets w or h 0).
    With ``margin>0`` it follows STARK: the box keeps at least ``margin`` px inside the image.
    """
    x1, y1, x2, y2 = _split(xywh_to_xyxy(b))
    lib = torch if isinstance(b, torch.Tensor) else np
    clip = (lambda v, lo, hi: v.clamp(lo, hi)) if lib is torch else np.clip
    nx1 = clip(x1, 0, width - margin)
    nx2 = clip(x2, margin, width)
    ny1 = clip(y1, 0, height - margin)
    ny2 = clip(y2, margin, height)
    w = lib.maximum(nx2 - nx1, nx2 * 0 + margin)
    h = lib.maximum(ny2 - ny1, ny2 * 0 + margin)
    return _stack([nx1, ny1, w, h], b)


def scale_box(b: Boxes, factor: float | Boxes) -> Boxes:
    """Scale boxes about their centres by ``factor`` (scalar or per-axis ``(fx, fy)``)."""
    cx, cy, w, h = _split(xywh_to_cxcywh(b))
    if isinstance(factor, (int, float)):
        fx = fy = factor
    else:
        fx, fy = factor[..., 0], factor[..., 1]
    return cxcywh_to_xywh(_stack([cx, cy, w * fx, h * fy], b))


def translate_box(b: Boxes, dx: float | Boxes, dy: float | Boxes) -> Boxes:
    """Shift boxes by ``(dx, dy)`` pixels."""
    x, y, w, h = _split(b)
    return _stack([x + dx, y + dy, w, h], b)


def is_valid_box(b: Boxes) -> Boxes:
    """True where all values are finite and w, h > 0."""
    if isinstance(b, torch.Tensor):
        return torch.isfinite(b).all(dim=-1) & (b[..., 2] > 0) & (b[..., 3] > 0)
    return np.isfinite(b).all(axis=-1) & (b[..., 2] > 0) & (b[..., 3] > 0)


@dataclass(frozen=True)
class CropTransform:
    """Maps image coordinates into a square crop: ``crop = (img - origin) * scale``."""

    x0: float
    y0: float
    scale: float
    output_size: int

    def box_to_crop(self, b: Boxes) -> Boxes:
        x, y, w, h = _split(b)
        s = self.scale
        return _stack([(x - self.x0) * s, (y - self.y0) * s, w * s, h * s], b)

    def box_from_crop(self, b: Boxes) -> Boxes:
        x, y, w, h = _split(b)
        s = self.scale
        return _stack([x / s + self.x0, y / s + self.y0, w / s, h / s], b)

    def affine(self) -> np.ndarray:
        """2x3 matrix for cv2.warpAffine (pixel centres at integer indices)."""
        s = self.scale
        return np.array(
            [[s, 0.0, s * (0.5 - self.x0) - 0.5], [0.0, s, s * (0.5 - self.y0) - 0.5]], dtype=np.float64
        )

    def padding_mask(self, width: int, height: int) -> np.ndarray:
        """Bool ``output_size²`` map, True where the crop pixel's centre lies outside the image."""
        centres = (np.arange(self.output_size) + 0.5) / self.scale
        xs, ys = self.x0 + centres, self.y0 + centres
        out_x = (xs < 0) | (xs >= width)
        out_y = (ys < 0) | (ys >= height)
        return out_y[:, None] | out_x[None, :]


def crop_transform(center: tuple[float, float], crop_side: float, output_size: int,
                   whole_pixels: bool = False) -> CropTransform:
    """Transform of a square crop of side ``crop_side`` centred on ``center``, resized to ``output_size``.

    ``whole_pixels`` rounds the crop's origin to the pixel grid, as STARK's ``sample_target``
    does (``x1 = round(cx - side / 2)``), so a crop is a whole-pixel window of the image.
    """
    if not crop_side > 0 or not math.isfinite(crop_side):
        raise ValueError(f"crop side must be positive and finite, got {crop_side}")
    x0, y0 = center[0] - crop_side / 2, center[1] - crop_side / 2
    if whole_pixels:
        x0, y0 = float(round(x0)), float(round(y0))
    return CropTransform(x0, y0, output_size / crop_side, output_size)


def crop_side_for_box(b: Boxes, factor: float) -> float:
    """STARK/pytracking crop side: ``ceil(sqrt(w·h) · factor)`` (at least 1 pixel)."""
    w, h = float(b[2]), float(b[3])
    return float(max(1, math.ceil(math.sqrt(max(w, 0.0) * max(h, 0.0)) * factor)))


def warp_crop(
    image: np.ndarray,
    transform: CropTransform,
    interpolation: int = cv2.INTER_LINEAR,
    pad_value: float | tuple = 0,
) -> np.ndarray:
    """Resample ``image`` (H x W or H x W x C) into the crop; outside pixels get ``pad_value``."""
    size = transform.output_size
    return cv2.warpAffine(
        image, transform.affine(), (size, size), flags=interpolation,
        borderMode=cv2.BORDER_CONSTANT, borderValue=pad_value,
    )


def crop_around_box(
    image: np.ndarray,
    box: Boxes,
    factor: float,
    output_size: int,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, CropTransform, np.ndarray | None]:
    """Square crop of ``factor·sqrt(w·h)`` around the box centre, resized to ``output_size``.

    Returns ``(crop, padding_mask, transform, mask_crop)``; ``padding_mask`` is True on padded
    pixels; masks are resampled with nearest neighbour so they stay aligned and binary.
    """
    cx, cy = float(box[0]) + float(box[2]) / 2, float(box[1]) + float(box[3]) / 2
    transform = crop_transform((cx, cy), crop_side_for_box(box, factor), output_size)
    crop = warp_crop(image, transform)
    height, width = image.shape[:2]
    mask_crop = warp_crop(mask, transform, cv2.INTER_NEAREST) if mask is not None else None
    return crop, transform.padding_mask(width, height), transform, mask_crop
