"""``fit_bbox_to_mask``: the box the official JCAT (D3S) tracker reports for a mask.

Axis-aligned mode (``rotated=False``): the min-max rectangle of the largest region's contour
(the official ``fit_aa_box`` skips its optimisation in this mode). Rotated mode (VOT): an
ellipse fitted to the contour gives the angle (the minimum-area rectangle when the ellipse is
implausibly large, an axis over 0.6 of the mask side); the mask is rotated by it, an
axis-aligned box is shrunk side by side while that raises ``N_in / (α·(A − N_in) + N)``
(α = 0.5: background inside costs half as much as target outside; at least 70 % of the
target stays inside), and its corners are rotated back.

Corners are returned (4, 2) in continuous mask coordinates (pixel ``i`` covers ``[i, i+1)``),
so a filled axis-aligned rectangle gives back exactly its box; None when the largest region
has no more than ``min_area`` pixels.
"""
from __future__ import annotations

import cv2
import numpy as np

ALPHA = 0.5
MIN_INSIDE = 0.7


def _largest_contour(mask: np.ndarray) -> np.ndarray | None:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    return max(contours, key=cv2.contourArea)


def _sum_in(integral: np.ndarray, y1: int, x1: int, y2: int, x2: int) -> float:
    return float(integral[y2 + 1, x2 + 1] - integral[y2 + 1, x1] - integral[y1, x2 + 1] + integral[y1, x1])


def _score(integral: np.ndarray, box: tuple[int, int, int, int], total: float) -> float:
    """The fit criterion of the inclusive pixel box ``(x1, y1, x2, y2)``; −1 when not allowed."""
    x1, y1, x2, y2 = box
    if x1 > x2 or y1 > y2:
        return -1.0
    inside = _sum_in(integral, y1, x1, y2, x2)
    if inside / total < MIN_INSIDE:
        return -1.0
    area = float((y2 - y1 + 1) * (x2 - x1 + 1))
    union = ALPHA * (area - inside) + total
    return inside / union if union >= 1e-3 else -1.0


def _shrink_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Greedy side-by-side shrinking of the min-max box of the largest region (inclusive pixels)."""
    contour = _largest_contour(mask)
    points = contour.reshape(-1, 2)
    x1, y1 = max(int(points[:, 0].min()), 0), max(int(points[:, 1].min()), 0)
    x2 = min(int(points[:, 0].max()), mask.shape[1] - 1)
    y2 = min(int(points[:, 1].max()), mask.shape[0] - 1)
    integral = cv2.integral(mask)
    total = float(mask.sum())
    best = -1.0
    while True:
        changed = False
        for candidate in ((x1, y1 + 1, x2, y2), (x1 + 1, y1, x2, y2), (x1, y1, x2, y2 - 1), (x1, y1, x2 - 1, y2)):
            score = _score(integral, candidate, total)
            if score > best:
                best, (x1, y1, x2, y2), changed = score, candidate, True
        if not changed:
            return x1, y1, x2, y2


def fit_bbox_to_mask(mask: np.ndarray, rotated: bool, min_area: float = 50.0) -> np.ndarray | None:
    """Corners (4, 2) of the box fitted to ``mask`` (> 0.3 is target); None for a too small region."""
    target = (np.asarray(mask) > 0.3).astype(np.uint8)
    contour = _largest_contour(target)
    if contour is None or cv2.contourArea(contour) <= min_area:
        return None
    points = contour.reshape(-1, 2)
    if not rotated:
        x1, y1 = points.min(axis=0)
        x2, y2 = points.max(axis=0) + 1
        return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)
    (cx, cy), axes, angle = cv2.fitEllipse(points)
    if axes[0] > target.shape[0] * 0.6 or axes[1] > target.shape[1] * 0.6:
        (cx, cy), _, angle = cv2.minAreaRect(points)
    rotation = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)  # pixel-index coordinates
    upright = cv2.warpAffine(target, rotation, (target.shape[1], target.shape[0]))  # bilinear, as official
    if not upright.any():
        return None
    x1, y1, x2, y2 = _shrink_box(upright)
    corners = np.array([[x1 - 0.5, y1 - 0.5], [x2 + 0.5, y1 - 0.5], [x2 + 0.5, y2 + 0.5], [x1 - 0.5, y2 + 0.5]])
    inverse = cv2.invertAffineTransform(rotation)
    back = corners @ inverse[:, :2].T + inverse[:, 2]
    return back + 0.5  # pixel-index -> continuous coordinates
