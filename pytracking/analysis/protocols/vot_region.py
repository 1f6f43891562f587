"""VOT regions (special codes, rectangles, polygons, masks) and vot-toolkit's pixel-raster overlap.

:func:`region_overlap` is vot-toolkit's ``calculate_overlap`` (``vot/region/raster.py``, 0.7.x,
itself a port of the TraX ``region.c`` code), rule for rule:

* Rectangle x, y, w, h and polygon vertices are each rounded half-to-even (``np.round``); a
  rectangle covers pixels ``round(x) … round(x) + round(w) - 1`` (so ``(0.4, 0, 9.6, 10)`` covers
  the same pixels as ``(0, 0, 10, 10)``), a polygon is filled by the TraX scan-line rule
  (``vot_scanline``, boundary pixels included), a mask is its pixels at its offset.
* Both regions are rasterised inside the union of their integer bounds, clipped to
  ``[0, W-1] x [0, H-1]`` when the image size is given; overlap = ``#(both) / #(either)``.
* Degenerate cases: an unclipped union with left >= right or top >= bottom scores **1.0**
  (the toolkit's "two empty regions are identical"); a clipped union that is degenerate scores
  **0.0**; two regions without pixels score 0; a special code is an empty region at (0, 0).

The legacy VOT2018 overlap (pysot's C code) is in ``vot_legacy_region``. Text lines and RLE masks
are parsed by ``pytracking.evaluation.regions``; :func:`as_region` turns those, tracker outputs and
arrays into the forms used here (masks decoded once).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pytracking.analysis.protocols.vot_scanline import fill_polygon
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


Box = tuple[int, int, int, int]  # inclusive pixel bounds (left, top, right, bottom)


def _prepared(region: Region) -> tuple[str, Any]:
    """vot-toolkit ``_infer_meta``: rectangle and polygon coordinates rounded (half to even, as
    ``np.round``) — x, y, w, h **each on its own**; masks as they are; specials become "empty"."""
    if is_special(region):
        return "empty", None
    if isinstance(region, Mask):
        return "mask", region
    if len(region) == 4:
        return "rect", np.round(np.asarray(region, dtype=np.float64))
    return "poly", np.round(np.asarray(region, dtype=np.float64).reshape(-1, 2))


def _bounds(kind: str, data: Any) -> Box:
    """vot-toolkit ``_region_bounds``: a rectangle covers ``round(x) … round(x) + round(w) - 1``."""
    if kind == "rect":
        x, y, w, h = data
        return int(x), int(y), int(x + w - 1), int(y + h - 1)
    if kind == "poly":
        return int(data[:, 0].min()), int(data[:, 1].min()), int(data[:, 0].max()), int(data[:, 1].max())
    if kind == "mask":
        ys, xs = np.nonzero(data.pixels)
        if len(xs) == 0:  # mask_bounds of an empty mask is (0, 0, 0, 0), then shifted by the offset
            return data.x0, data.y0, data.x0, data.y0
        return data.x0 + int(xs.min()), data.y0 + int(ys.min()), data.x0 + int(xs.max()), data.y0 + int(ys.max())
    return 0, 0, 0, 0


def _rect_span(start: float, size: float, lo: int, hi: int) -> range:
    """Columns (or rows) of ``rasterize_rectangle`` inside the raster ``[lo, hi]``, as canvas
    indices: ``mask[max(0, x - lo) : min(hi, x + w - 1 - lo) + 1]`` with numpy's slice rules
    (the toolkit clamps with the absolute ``hi``; kept, it only matters without image bounds)."""
    if start > hi or start + size - 1 < lo:
        return range(0)
    first = int(max(0, start - lo))
    last = int(min(hi, start + size - 1 - lo))
    return range(hi - lo + 1)[first: last + 1]


def _raster(kind: str, data: Any, box: Box) -> np.ndarray:
    """The region's pixels on the canvas ``box`` (vot-toolkit ``_region_raster``)."""
    left, top, right, bottom = box
    canvas = np.zeros((bottom - top + 1, right - left + 1), dtype=bool)
    if kind == "rect":
        cols, rows = _rect_span(data[0], data[2], left, right), _rect_span(data[1], data[3], top, bottom)
        if len(cols) and len(rows):
            canvas[rows.start: rows.stop, cols.start: cols.stop] = True
    elif kind == "poly":
        canvas = fill_polygon(data - np.array([left, top], dtype=np.float64), right - left + 1, bottom - top + 1)
    elif kind == "mask":
        h, w = data.pixels.shape
        tx, ty = max(data.x0, left), max(data.y0, top)
        tw, th = min(right + 1, data.x0 + w) - tx, min(bottom + 1, data.y0 + h) - ty
        if tw > 0 and th > 0:
            canvas[ty - top: ty - top + th, tx - left: tx - left + tw] = \
                data.pixels[ty - data.y0: ty - data.y0 + th, tx - data.x0: tx - data.x0 + tw]
    return canvas


MAX_CANVAS_PIXELS = 1 << 28
"""Largest canvas :func:`region_overlap` rasterises (256 Mpx, two 256 MB boolean masks)."""


def region_overlap(a: Any, b: Any, image_size: tuple[int, int] | None = None, where: str = "") -> float:
    """vot-toolkit ``calculate_overlap`` of two regions, bounded to ``image_size = (W, H)`` when given.

    * The union of the two integer bounds is **degenerate** (left >= right or top >= bottom):
      1.0 ("two empty regions are identical"), before any image clipping.
    * That union clipped to ``[0, W-1] x [0, H-1]`` is degenerate: 0.0 (outside the image).
    * Otherwise ``#(both) / #(either)`` over the clipped canvas, 0.0 when neither has a pixel.
    Special codes rasterise as an empty region with bounds (0, 0, 0, 0), as in the toolkit.
    ``where`` (e.g. the sequence name) prefixes the error for regions too large to rasterise.
    """
    ka, da = _prepared(as_region(a))
    kb, db = _prepared(as_region(b))
    ba, bb = _bounds(ka, da), _bounds(kb, db)
    union = (min(ba[0], bb[0]), min(ba[1], bb[1]), max(ba[2], bb[2]), max(ba[3], bb[3]))
    if union[0] >= union[2] or union[1] >= union[3]:
        return 1.0
    box = union
    if image_size is not None:
        width, height = image_size
        box = (max(0, union[0]), max(0, union[1]), min(width - 1, union[2]), min(height - 1, union[3]))
    if box[0] >= box[2] or box[1] >= box[3]:
        return 0.0
    if ka == kb == "rect":
        return _rect_pair(da, db, box)
    pixels = (box[2] - box[0] + 1) * (box[3] - box[1] + 1)
    if pixels > MAX_CANVAS_PIXELS:
        raise ValueError(f"{where + ': ' if where else ''}regions spanning {box[2] - box[0] + 1}x{box[3] - box[1] + 1} "
                         "px are too large to "
                         "rasterise" + ("" if image_size is not None else
                                        "; without the frames or a 'sequence' file the image size that would bound "
                                        "them is unknown"))
    ma, mb = _raster(ka, da, box), _raster(kb, db, box)
    either = int(np.count_nonzero(ma | mb))
    return float(np.count_nonzero(ma & mb)) / either if either else 0.0


def _rect_pair(da: np.ndarray, db: np.ndarray, box: Box) -> float:
    """Pixel counts of two rasterised rectangles without building the canvas (same spans)."""
    left, top, right, bottom = box
    spans = [(_rect_span(d[0], d[2], left, right), _rect_span(d[1], d[3], top, bottom)) for d in (da, db)]
    sizes = [len(c) * len(r) for c, r in spans]

    def common(p: range, q: range) -> int:
        return max(0, min(p.stop, q.stop) - max(p.start, q.start)) if len(p) and len(q) else 0

    inter = common(spans[0][0], spans[1][0]) * common(spans[0][1], spans[1][1])
    either = sizes[0] + sizes[1] - inter
    return inter / either if either else 0.0
