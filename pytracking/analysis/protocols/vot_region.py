"""VOT regions (special codes, rectangles, polygons, masks) and their pixel-raster overlap.

The overlap follows vot-toolkit's ``vot/region/raster.py`` (metrics.md §6.1):

* Each region gets integer pixel bounds: a rectangle ``round(x) … round(x + w - 1)`` (so
  ``(0.4, 0, 9.6, 10)`` covers the same pixels as ``(0, 0, 10, 10)``), a polygon the rounded
  min/max of its vertices, a mask the tight box of its set pixels.
* Both regions are rasterised inside the union of their bounds, clipped to
  ``[0, W-1] x [0, H-1]`` when the image size is given; overlap = ``#(both) / #(either)``.
* Quirks kept: the overlap is **1.0** when that clipped union is degenerate (left >= right or
  top >= bottom); two regions without pixels score 0; a special region scores 0.
* Polygons are filled with ``cv2.fillPoly`` on the rounded vertices (interior **and** boundary
  pixels), which matches the toolkit's boundary-inclusive scan line up to single pixels on
  slanted edges. Rectangle pairs are counted analytically (identical to rasterising them).

Text lines and RLE masks are parsed by ``pytracking.evaluation.regions``; :func:`as_region`
turns those, tracker outputs and arrays into the forms used here (masks decoded once).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pytracking.evaluation.regions import RleMask

INIT, FAILURE, UNKNOWN = 1, 2, 0


@dataclass(frozen=True)
class Mask:
    """A binary mask whose top-left pixel sits at ``(x0, y0)`` in the image."""

    x0: int
    y0: int
    pixels: np.ndarray  # H x W bool


Region = int | np.ndarray | Mask


def as_region(obj: Any) -> Region:
    """Accept a region in any of the forms the datasets and trackers produce: special codes,
    ``x,y,w,h`` / polygon arrays, ``RleMask`` (decoded here), full-image masks, tracker dicts."""
    if isinstance(obj, Mask) or is_special(obj):
        return obj if isinstance(obj, Mask) else int(obj)
    if isinstance(obj, RleMask):
        return Mask(obj.x0, obj.y0, obj.crop().astype(bool))
    if isinstance(obj, dict):
        for key in ("target_polygon", "target_bbox", "segmentation"):
            if key in obj:
                return as_region(obj[key])
        raise ValueError(f"tracker output has none of target_polygon/target_bbox/segmentation: {sorted(obj)}")
    arr = np.asarray(obj)
    if arr.ndim == 2 and (arr.dtype == bool or arr.shape[1] != 2):
        return Mask(0, 0, arr.astype(bool))
    arr = arr.astype(np.float64).ravel()
    if np.isnan(arr).any():
        return UNKNOWN
    return arr


def is_special(region: Any) -> bool:
    return isinstance(region, (int, np.integer)) or (isinstance(region, float) and not np.isnan(region))


def is_empty(region: Region) -> bool:
    """True for an unknown region or one that covers no area (vot ``Region.is_empty``)."""
    if is_special(region):
        return int(region) == UNKNOWN
    if isinstance(region, Mask):
        return not region.pixels.any()
    if len(region) == 4:
        return not (region[2] > 0 and region[3] > 0)
    xs, ys = region[0::2], region[1::2]
    return 0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1))) == 0


def _bounds(region: Region) -> tuple[int, int, int, int]:
    if isinstance(region, Mask):
        ys, xs = np.nonzero(region.pixels)
        if len(xs) == 0:
            big = np.iinfo(np.int32).max
            return big, big, -big, -big
        return region.x0 + xs.min(), region.y0 + ys.min(), region.x0 + xs.max(), region.y0 + ys.max()
    if len(region) == 4:
        x, y, w, h = region
        return round(x), round(y), round(x + w - 1), round(y + h - 1)
    xs, ys = region[0::2], region[1::2]
    return round(xs.min()), round(ys.min()), round(xs.max()), round(ys.max())


def _raster(region: Region, box: tuple[int, int, int, int]) -> np.ndarray:
    """The region's pixels inside the inclusive pixel box ``(left, top, right, bottom)``."""
    left, top, right, bottom = box
    canvas = np.zeros((bottom - top + 1, right - left + 1), dtype=np.uint8)
    if isinstance(region, Mask):
        h, w = region.pixels.shape
        tx, ty = max(region.x0, left), max(region.y0, top)
        bx, by = min(region.x0 + w - 1, right), min(region.y0 + h - 1, bottom)
        if bx >= tx and by >= ty:
            canvas[ty - top: by - top + 1, tx - left: bx - left + 1] = \
                region.pixels[ty - region.y0: by - region.y0 + 1, tx - region.x0: bx - region.x0 + 1]
    elif len(region) == 4:
        l, t, r, b = _bounds(region)
        l, t, r, b = max(l, left), max(t, top), min(r, right), min(b, bottom)
        if r >= l and b >= t:
            canvas[t - top: b - top + 1, l - left: r - left + 1] = 1
    else:
        points = np.round(np.asarray(region, dtype=np.float64).reshape(-1, 2)).astype(np.int32)
        cv2.fillPoly(canvas, [points - np.array([left, top], dtype=np.int32)], 1)
    return canvas


def _clip(box: tuple[int, int, int, int], image_size: tuple[int, int] | None) -> tuple[int, int, int, int]:
    if image_size is None:
        return box
    width, height = image_size
    return max(0, box[0]), max(0, box[1]), min(width - 1, box[2]), min(height - 1, box[3])


def region_overlap(a: Any, b: Any, image_size: tuple[int, int] | None = None) -> float:
    """vot-toolkit overlap of two regions, bounded to ``image_size = (W, H)`` when given."""
    a, b = as_region(a), as_region(b)
    if is_special(a) or is_special(b):
        return 0.0
    ba, bb = _bounds(a), _bounds(b)
    union = _clip((min(ba[0], bb[0]), min(ba[1], bb[1]), max(ba[2], bb[2]), max(ba[3], bb[3])), image_size)
    if union[0] >= union[2] or union[1] >= union[3]:
        return 1.0
    if not isinstance(a, Mask) and not isinstance(b, Mask) and len(a) == 4 and len(b) == 4:
        return _rect_overlap(_clip_to(ba, union), _clip_to(bb, union))
    ma, mb = _raster(a, union).astype(bool), _raster(b, union).astype(bool)
    either = int(np.count_nonzero(ma | mb))
    return float(np.count_nonzero(ma & mb)) / either if either else 0.0


def _clip_to(box: tuple[int, int, int, int], area: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return max(box[0], area[0]), max(box[1], area[1]), min(box[2], area[2]), min(box[3], area[3])


def _rect_overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Pixel counts of two inclusive pixel rectangles, as rasterising them would give."""
    def size(r: tuple[int, int, int, int]) -> int:
        return max(0, r[2] - r[0] + 1) * max(0, r[3] - r[1] + 1)

    inter = size((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    either = size(a) + size(b) - inter
    return inter / either if either else 0.0
