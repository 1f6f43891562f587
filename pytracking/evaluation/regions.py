"""VOT ground-truth regions: rectangles, polygons, RLE masks (``m x0,y0,w,h,runs``) and specials.

Regions are kept raw in ``Sequence.regions`` for the VOT protocols; :func:`region_to_bbox` gives
the axis-aligned box the trackers are initialised with (polygon -> min/max of the corners as
pytracking does; mask -> tight box of its pixels).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pytracking.evaluation.annotations import MAX_COORDINATE, AnnotationError, parse_numbers


@dataclass(frozen=True)
class RleMask:
    """A VOT2020 mask: a ``width x height`` crop at ``(x0, y0)`` run-length coded row-major, zeros first."""

    x0: int
    y0: int
    width: int
    height: int
    runs: tuple[int, ...]

    def crop(self) -> np.ndarray:
        """The decoded ``height x width`` uint8 crop (a missing trailing zero run is implied)."""
        values = np.arange(len(self.runs)) % 2
        flat = np.repeat(values.astype(np.uint8), self.runs)
        size = self.width * self.height
        if len(flat) > size:
            raise ValueError(f"mask runs cover {len(flat)} pixels, crop has {size}")
        return np.concatenate([flat, np.zeros(size - len(flat), np.uint8)]).reshape(self.height, self.width)

    def to_mask(self, width: int, height: int) -> np.ndarray:
        """The full-frame ``height x width`` uint8 mask (parts outside the frame are dropped)."""
        mask = np.zeros((height, width), np.uint8)
        crop = self.crop()
        x1, y1 = min(self.x0 + self.width, width), min(self.y0 + self.height, height)
        if x1 > self.x0 and y1 > self.y0:
            mask[self.y0:y1, self.x0:x1] = crop[: y1 - self.y0, : x1 - self.x0]
        return mask

    def bbox(self) -> np.ndarray:
        """Tight ``x, y, w, h`` box of the mask pixels (continuous: a pixel spans 1x1); NaN when empty."""
        crop = self.crop()
        ys, xs = np.nonzero(crop)
        if len(xs) == 0:
            return np.full(4, np.nan)
        return np.array([self.x0 + xs.min(), self.y0 + ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1],
                        dtype=np.float64)


Region = np.ndarray | RleMask | int
"""A rectangle (4 floats), a polygon (2k floats, k >= 3), a mask, or a special code (0, 1, 2)."""


MAX_MASK_PIXELS = 1 << 26
"""Largest RLE mask crop (64 Mpx, twice an 8K frame); decoding a larger one would exhaust memory."""
SPECIAL_CODES = (0, 1, 2)
"""VOT's special lines: ``0`` skipped (after a failure), ``1`` initialised, ``2`` failed."""


def parse_region(line: str, path: Path, lineno: int) -> Region:
    """One ``groundtruth.txt`` or trajectory line; a malformed one raises AnnotationError naming ``file:line``.

    Coordinates must be finite and within ``±MAX_COORDINATE``; a mask crop at most
    ``MAX_MASK_PIXELS``; a single value one of the special codes (or NaN: unknown, read as 0).
    """
    text = line.strip()
    if text.startswith("m"):
        values = parse_numbers(text[1:], path, lineno)
        if (len(values) < 4 or not np.isfinite(values).all()
                or any(v != int(v) or v < 0 or v > MAX_COORDINATE for v in values[:4])
                or any(v != int(v) or v < 0 for v in values[4:])):
            raise AnnotationError(f"{path}:{lineno}: malformed mask, expected m<x0>,<y0>,<w>,<h>,<runs...> "
                                  f"(non-negative integers, positions and sizes up to {MAX_COORDINATE:g})")
        mask = RleMask(*(int(v) for v in values[:4]), tuple(int(v) for v in values[4:]))
        if mask.width * mask.height > MAX_MASK_PIXELS:
            raise AnnotationError(f"{path}:{lineno}: mask crop {mask.width}x{mask.height} is larger than the "
                                  f"{MAX_MASK_PIXELS} pixels allowed")
        if sum(mask.runs) > mask.width * mask.height:
            raise AnnotationError(f"{path}:{lineno}: mask runs cover more than its {mask.width}x{mask.height} crop")
        return mask
    values = parse_numbers(text, path, lineno)
    if len(values) == 1:
        if np.isnan(values[0]):
            return 0
        if values[0] not in SPECIAL_CODES:
            raise AnnotationError(f"{path}:{lineno}: {text!r} is not a region or a special code "
                                  f"({', '.join(map(str, SPECIAL_CODES))})")
        return int(values[0])
    if np.isnan(values).any():
        return 0
    if not all(abs(v) <= MAX_COORDINATE for v in values):
        raise AnnotationError(f"{path}:{lineno}: coordinate beyond ±{MAX_COORDINATE:g} px in {text!r}")
    if len(values) == 4 or (len(values) >= 6 and len(values) % 2 == 0):
        return np.asarray(values, dtype=np.float64)
    raise AnnotationError(f"{path}:{lineno}: expected a rectangle (4 values), a polygon (>= 6, even) or a mask, "
                          f"found {len(values)} values")


def region_to_bbox(region: Region) -> np.ndarray:
    """Axis-aligned ``x, y, w, h`` of a region; NaN for specials and empty masks."""
    if isinstance(region, RleMask):
        return region.bbox()
    if isinstance(region, int):
        return np.full(4, np.nan)
    if len(region) == 4:
        return np.asarray(region, dtype=np.float64)
    xs, ys = region[0::2], region[1::2]
    return np.array([xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()], dtype=np.float64)
