"""Exact per-frame target geometry: boxes, pixel counts and visibility, without rendering pixels.

Shapes are rasterised (no anti-aliasing) into small canvases around each object; the box is
the extent of the full target raster, and the visible pixels are the raster's pixels inside the
image that no occluder raster covers. The renderer paints from the very same rasters, so the
rendered mask and these numbers agree exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ltr.dataset.synthetic.plan import ScenePlan

_SHIFT = 4  # fillPoly sub-pixel bits: vertices are placed to 1/16 px


Slices = tuple[slice, slice]


@dataclass
class Raster:
    """A binary mask (uint8 {0, 1}) whose pixel ``[0, 0]`` is image pixel ``(x0, y0)``."""

    mask: np.ndarray
    x0: int
    y0: int

    def overlap(self, x0: int, y0: int, width: int, height: int) -> tuple[Slices, Slices] | None:
        """Where this raster meets the rectangle ``[x0, x0+width) × [y0, y0+height)``: (rows,
        cols) into the mask and (rows, cols) into the rectangle, or None when they miss."""
        h, w = self.mask.shape
        left, top = max(self.x0, x0), max(self.y0, y0)
        right, bottom = min(self.x0 + w, x0 + width), min(self.y0 + h, y0 + height)
        if right <= left or bottom <= top:
            return None
        return ((slice(top - self.y0, bottom - self.y0), slice(left - self.x0, right - self.x0)),
                (slice(top - y0, bottom - y0), slice(left - x0, right - x0)))

    def in_image(self, width: int, height: int) -> tuple[Slices, Slices] | None:
        """Where this raster meets a ``width x height`` image (see :meth:`overlap`)."""
        return self.overlap(0, 0, width, height)


def rasterise(vertices: np.ndarray) -> Raster:
    """Fill a polygon given in continuous pixel coordinates (pixel ``(x, y)`` covers
    ``[x, x+1) × [y, y+1)``) without anti-aliasing. OpenCV's fill includes the pixels the outline
    passes through, so the raster's extent is the polygon's extent rounded out to whole pixels."""
    centred = vertices - 0.5  # OpenCV puts pixel centres on integer coordinates
    lo, hi = centred.min(axis=0), centred.max(axis=0)
    x0, y0 = math.floor(lo[0]) - 1, math.floor(lo[1]) - 1
    mask = np.zeros((math.ceil(hi[1]) + 2 - y0, math.ceil(hi[0]) + 2 - x0), np.uint8)
    points = np.round((centred - (x0, y0)) * (1 << _SHIFT)).astype(np.int32)
    cv2.fillPoly(mask, [points], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    return Raster(mask, x0, y0)


def extent_hits_image(vertices: np.ndarray, width: int, height: int) -> bool:
    """Whether the polygon's extent (with a pixel of slack) overlaps the image at all."""
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    return bool(hi[0] > -1 and hi[1] > -1 and lo[0] < width + 1 and lo[1] < height + 1)


@dataclass
class TargetFrame:
    """The target in one frame: its full raster, the visible part (same canvas), the occluder
    rasters (aligned with ``plan.occluders``; None for those outside the image) and pixel counts."""

    full: Raster
    visible: np.ndarray  # uint8 {0, 1}, same canvas as ``full``
    occluders: list[Raster | None]
    full_pixels: int
    inside_pixels: int
    visible_pixels: int

    def box(self) -> np.ndarray:
        """``x, y, w, h`` of the full target raster (it may extend past the image)."""
        x, y, w, h = cv2.boundingRect(self.full.mask)
        return np.array([self.full.x0 + x, self.full.y0 + y, w, h], dtype=np.float64)


def target_frame(plan: ScenePlan, i: int) -> TargetFrame:
    """Rasterise the target and occluders of frame ``i`` and work out which target pixels show."""
    width, height = plan.width, plan.height
    full = rasterise(plan.target.vertices(i))
    inside = np.zeros_like(full.mask)
    window = full.in_image(width, height)
    if window is not None:
        inside[window[0]] = full.mask[window[0]]
    occluders = [rasterise(v) if extent_hits_image(v, width, height) else None
                 for v in (o.vertices(i) for o in plan.occluders)]
    visible = inside.copy()
    for occluder in (o for o in occluders if o is not None):
        shared = full.overlap(occluder.x0, occluder.y0, *occluder.mask.shape[::-1])
        if shared is not None:
            visible[shared[0]] &= 1 - occluder.mask[shared[1]]
    full_pixels = cv2.countNonZero(full.mask)
    if full_pixels == 0:
        raise RuntimeError(f"frame {i}: the target rasterised to no pixels (size {plan.target.size[i]})")
    return TargetFrame(full, visible, occluders, full_pixels, cv2.countNonZero(inside), cv2.countNonZero(visible))



@dataclass
class SequenceGeometry:
    """Per-frame target facts of a whole sequence (arrays of length N)."""

    boxes: np.ndarray  # N x 4 float64 x, y, w, h of the full target, even when hidden or outside
    full_pixels: np.ndarray  # target pixels, wherever they are
    inside_pixels: np.ndarray  # target pixels inside the image
    visible_pixels: np.ndarray  # target pixels inside the image and not under an occluder

    @property
    def visible_ratio(self) -> np.ndarray:
        """Visible target pixels / all target pixels, in [0, 1]."""
        return self.visible_pixels / self.full_pixels

    @property
    def occluded_pixels(self) -> np.ndarray:
        """Target pixels inside the image that an occluder hides."""
        return self.inside_pixels - self.visible_pixels

    @property
    def absent(self) -> np.ndarray:
        """No target pixel can be seen (out of view or fully occluded)."""
        return self.visible_pixels == 0

    @property
    def cut_by_image(self) -> np.ndarray:
        """Part (or all) of the target lies outside the image."""
        return self.inside_pixels < self.full_pixels

    @property
    def cover(self) -> np.ndarray:
        """GOT-10k cover label, visible eighths rounded up: 0 iff nothing shows, 8 iff all shows."""
        partial = np.clip(np.ceil(self.visible_ratio * 8), 1, 7)
        full = np.where(self.visible_pixels == self.full_pixels, 8, partial)
        return np.where(self.visible_pixels == 0, 0, full).astype(int)


def measure(plan: ScenePlan) -> SequenceGeometry:
    """Rasterise every frame's target and occluders (no textures, no compositing)."""
    frames = [target_frame(plan, i) for i in range(plan.num_frames)]
    return SequenceGeometry(
        boxes=np.stack([f.box() for f in frames]),
        full_pixels=np.array([f.full_pixels for f in frames], dtype=np.int64),
        inside_pixels=np.array([f.inside_pixels for f in frames], dtype=np.int64),
        visible_pixels=np.array([f.visible_pixels for f in frames], dtype=np.int64),
    )
