"""Object outlines as polygons in a unit square, and their placement in a frame.

Every shape (ellipse, rectangle, polygon, blob) is a polygon whose vertices span exactly
``[-0.5, 0.5]`` on both axes, so a pose's ``size`` is the object's width and height before
rotation. Polygons let the generator rasterise targets and occluders cheaply and identically
for geometry and rendering.
"""
from __future__ import annotations

import numpy as np

from ltr.dataset.synthetic.params import SHAPES


def _normalise(points: np.ndarray) -> np.ndarray:
    """Shift and scale ``points`` so they span ``[-0.5, 0.5]`` on each axis."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    return (points - (lo + hi) / 2) / (hi - lo)


def outline(shape: str, rng: np.random.Generator) -> np.ndarray:
    """A random ``K x 2`` float64 outline of ``shape`` (counter-clockwise, unit square)."""
    if shape == "rectangle":
        points = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    elif shape == "ellipse":
        theta = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        points = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    elif shape == "polygon":
        count = int(rng.integers(5, 9))
        step = 2 * np.pi / count
        theta = np.arange(count) * step + rng.uniform(-0.35, 0.35, count) * step
        radius = rng.uniform(0.6, 1.0, count)
        points = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    elif shape == "blob":
        theta = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        radius = np.ones_like(theta)
        for k in (2, 3, 4, 5):
            radius += rng.uniform(0, 0.5 / k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        points = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    else:
        raise ValueError(f"unknown shape '{shape}'; known: {', '.join(SHAPES)}")
    return _normalise(points)


def place(points: np.ndarray, center: np.ndarray, size: np.ndarray, angle: float | np.ndarray) -> np.ndarray:
    """Vertices in frame pixels: scale the unit outline by ``size`` (w, h), rotate by ``angle``,
    translate to ``center``. Leading axes of the pose broadcast (``N x 2`` poses give ``N x K x 2``)."""
    center, size = np.asarray(center, dtype=np.float64), np.asarray(size, dtype=np.float64)
    cos, sin = np.cos(angle)[..., None], np.sin(angle)[..., None]
    scaled = points * size[..., None, :]
    return np.stack([scaled[..., 0] * cos - scaled[..., 1] * sin + center[..., None, 0],
                     scaled[..., 0] * sin + scaled[..., 1] * cos + center[..., None, 1]], axis=-1)


def circumradius(points: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Largest centre-to-vertex distance of the outline scaled by each ``size`` (``... x 2``)."""
    size = np.asarray(size, dtype=np.float64)
    scaled = points * size[..., None, :]
    return np.sqrt((scaled ** 2).sum(axis=-1)).max(axis=-1)
