"""The region overlap of the legacy VOT2018 evaluation: pysot's ``toolkit/utils/src/region.c``.

pysot's toolkit (``vot_overlap`` in ``region.pyx``) reproduces the published VOT2018 numbers; its
C code is an older TraX ``region.c`` run **without** the legacy-rasterisation flag. Rule for rule:

* A rectangle becomes the polygon ``(x, y), (x+w, y), (x+w, y+h), (x, y+h)`` — corners at
  ``x + w``, not ``x + w - 1`` — and every vertex is stored as a C ``float`` (float32).
* Per polygon, bounds = ``floor`` of the minima and ``ceil`` of the maxima, intersected with the
  given bounds ``(left=0, top=0, right=W, bottom=H)`` (pysot passes ``(W, H)`` for accuracy and
  ``(W-1, H-1)`` for EAO); no bounds = unbounded.
* Canvas origin ``(min left, min top)``, size ``int(max right - x) + 1`` by the same for y.
  Overlap 0 when either bounds area is below 1e-10 of the other or the canvas is empty, and when
  the two bounds' own box overlap (``bounds_overlap``) is exactly 0 (e.g. boxes that only touch).
* Polygons shifted to the canvas in float32, rounded half away from zero (C ``round``), filled by
  the pysot scan-line variant (``vot_scanline``); overlap = ``inter / (only1 + only2 + inter)``
  as a float32 division.
* A special code (a one-value region) scores NaN, so it drops out of nanmeans.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from pytracking.analysis.protocols.vot_region import Mask, as_region, is_special
from pytracking.analysis.protocols.vot_scanline import fill_polygon

Bounds = tuple[float, float, float, float]  # left, top, right, bottom
_UNBOUNDED: Bounds = (-math.inf, -math.inf, math.inf, math.inf)


def _polygon(region: np.ndarray) -> np.ndarray:
    """pysot ``vot_overlap``: rectangles become their four corners; everything as float32."""
    if len(region) == 4:
        x, y, w, h = (float(v) for v in region)
        region = [x, y, x + w, y, x + w, y + h, x, y + h]
    return np.asarray(region, dtype=np.float64).astype(np.float32).reshape(-1, 2)


def _c_round(values: np.ndarray) -> np.ndarray:
    """C ``round``: half away from zero."""
    return np.sign(values) * np.floor(np.abs(values) + 0.5)


def _intersect(a: Bounds, b: Bounds) -> Bounds:
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])


def _area(b: Bounds) -> float:
    return (b[2] - b[0]) * (b[3] - b[1])


def _c_div(num: float, den: float) -> float:
    """IEEE division as C does it (x/0 = ±inf, 0/0 = NaN) instead of raising."""
    if den == 0:
        return math.nan if num == 0 or math.isnan(num) else math.copysign(math.inf, num) * math.copysign(1, den)
    return num / den


def _bounds_overlap(a: Bounds, b: Bounds) -> float:
    """C ``bounds_overlap``: ``MAX(0, inter / union)`` with the C macro (NaN passes through)."""
    inter = _area(_intersect(a, b))
    value = _c_div(inter, _area(a) + _area(b) - inter)
    return 0.0 if 0 > value else value


def legacy_overlap(a: Any, b: Any, bounds: tuple[float, float] | None = None) -> float:
    """pysot's ``vot_overlap(a, b, bounds)`` with ``bounds = (W, H)`` meaning left/top 0,
    right W, bottom H; NaN when either region is a special code."""
    a, b = as_region(a), as_region(b)
    if is_special(a) or is_special(b):
        return math.nan
    if isinstance(a, Mask) or isinstance(b, Mask):
        raise ValueError("the legacy VOT2018 overlap is defined for rectangles and polygons, not masks")
    pa, pb = _polygon(a), _polygon(b)
    limit = _UNBOUNDED if bounds is None else (0.0, 0.0, float(bounds[0]), float(bounds[1]))
    boxes = []
    for p in (pa, pb):
        own = (math.floor(p[:, 0].min()), math.floor(p[:, 1].min()), math.ceil(p[:, 0].max()), math.ceil(p[:, 1].max()))
        boxes.append(tuple(float(np.float32(v)) for v in _intersect(own, limit)))
    b1, b2 = boxes
    x, y = np.float32(min(b1[0], b2[0])), np.float32(min(b1[1], b2[1]))
    width = int(max(b1[2], b2[2]) - float(x)) + 1
    height = int(max(b1[3], b2[3]) - float(y)) + 1
    a1, a2 = _area(b1), _area(b2)
    if _c_div(a1, a2) < 1e-10 or _c_div(a2, a1) < 1e-10 or width < 1 or height < 1:
        return 0.0
    if _bounds_overlap(b1, b2) == 0:
        return 0.0
    shift = np.array([-x, -y], dtype=np.float32)
    m1 = fill_polygon(_c_round((pa + shift).astype(np.float64)), width, height, rule="pysot")
    m2 = fill_polygon(_c_round((pb + shift).astype(np.float64)), width, height, rule="pysot")
    inter = int(np.count_nonzero(m1 & m2))
    union = int(np.count_nonzero(m1 | m2))
    return float(np.float32(inter) / np.float32(union)) if union else math.nan
