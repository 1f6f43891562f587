"""The scan-line polygon fill of the VOT region code, vectorised over image rows.

Two variants exist in the official code, and they fill different pixels on the same polygon:

* ``"trax"`` — TraX ``region.c`` (``rasterize_polygon`` without the legacy flag) and its port in
  vot-toolkit ``vot/region/raster.py``. For every row ``Y`` each edge whose rounded end points
  satisfy ``min(y_i, y_j) <= Y <= max(y_i, y_j)`` gives a node: ``trunc(x_i + (Y - y_i) / r * k)``
  (``r = y_j - y_i``, ``k = x_j - x_i``), or ``x_i`` for a horizontal edge (``r == 0``). The nodes
  are sorted and walked in pairs: a node at or past the right edge stops the row; two equal
  nodes drop the first **unless they are the last pair**; otherwise columns ``[a, b]`` (both
  inclusive, clamped to the canvas) are set and the walk moves two nodes on.
* ``"pysot"`` — the copy of that C file in pysot's ``toolkit/utils/src/region.c``, an older
  TraX: horizontal edges give **no** node and two equal nodes always drop the first.

Vertices must already be rounded and shifted to canvas coordinates (float64 values). Node
arithmetic is done in float64 in the order the C code uses, then truncated toward zero like C's
``(int)`` cast, so the result is bit-identical to the official code, pixel for pixel.
"""
from __future__ import annotations

import numpy as np

RULES = ("trax", "pysot")
_NO_NODE = np.iinfo(np.int64).max


def fill_polygon(points: np.ndarray, width: int, height: int, rule: str = "trax") -> np.ndarray:
    """``height x width`` bool canvas of the polygon ``points`` (``N x 2``, rounded, canvas coords)."""
    if rule not in RULES:
        raise ValueError(f"unknown scan-line rule {rule!r}; expected one of {RULES}")
    canvas = np.zeros((max(height, 0), max(width, 0)), dtype=bool)
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if height <= 0 or width <= 0 or len(points) == 0:
        return canvas
    xi, yi = points[:, 0], points[:, 1]
    prev = np.roll(np.arange(len(points)), 1)  # j = i - 1, and count - 1 for i = 0, as in the C loop
    xj, yj = xi[prev], yi[prev]
    rows = np.arange(height, dtype=np.float64)[:, None]
    hit = (np.minimum(yi, yj) <= rows) & (rows <= np.maximum(yi, yj))
    r, k = yj - yi, xj - xi
    with np.errstate(divide="ignore", invalid="ignore"):
        slanted = np.trunc(xi + (rows - yi) / np.where(r != 0, r, 1.0) * k)
    nodes = np.where(r != 0, slanted, np.trunc(xi))
    if rule == "pysot":
        hit &= r != 0
    nodes = np.sort(np.where(hit, nodes, np.nan), axis=1)  # NaN (no node) sorts last
    count = hit.sum(axis=1)
    nodes = np.where(np.isnan(nodes), 0, nodes).astype(np.int64)

    row_ids = np.arange(height)
    i = np.zeros(height, dtype=np.int64)
    active = count > 1
    diff = np.zeros((height, width + 1), dtype=np.int64)
    last = nodes.shape[1] - 1
    while active.any():
        a = nodes[row_ids, np.minimum(i, last)]
        b = nodes[row_ids, np.minimum(i + 1, last)]
        active &= i < count - 1
        if rule == "trax":
            active &= a < width
            skip = active & (a == b) & (i < count - 2)
        else:
            skip = active & (a == b)
            active &= ~(~skip & (a >= width))
        fill = active & ~skip & (b >= 0)
        rows_f = row_ids[fill]
        lo = np.maximum(a[fill], 0)
        hi = np.minimum(b[fill], width - 1)
        np.add.at(diff, (rows_f, lo), 1)
        np.add.at(diff, (rows_f, hi + 1), -1)
        i = np.where(skip, i + 1, i + 2)
    canvas[:] = np.cumsum(diff[:, :width], axis=1) > 0
    return canvas
