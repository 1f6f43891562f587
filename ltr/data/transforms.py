"""Joint geometric and photometric transforms of crops, drawn once and applied to all parts.

The crop and the geometric augmentation (flip, small rotation/scale/translation) are composed
into ONE affine map from image coordinates to crop coordinates, so an image, its mask, its box
and its padding mask go through the very same transform with one resampling (OpenCV). Matrices
are 3x3 in continuous coordinates (a pixel ``i`` covers ``[i, i+1)``, as boxes do).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ltr.config.train import CropConfig
from ltr.data.boxes import CropTransform, xywh_to_xyxy


@dataclass(frozen=True)
class GeometricParams:
    """One draw of the geometric augmentation of a crop (about the crop centre)."""

    flip: bool = False
    angle: float = 0.0  # degrees, counter-clockwise in the image
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)  # crop pixels


def draw_geometric(rng: np.random.Generator, config: CropConfig, flip: bool) -> GeometricParams:
    """Random rotation/scale/translation within the config's bounds (``flip`` is drawn per episode)."""
    angle = float(rng.uniform(-config.rotation, config.rotation)) if config.rotation else 0.0
    scale = float(rng.uniform(1 - config.scale, 1 + config.scale)) if config.scale else 1.0
    shift = (0.0, 0.0)
    if config.translate:
        limit = config.translate * config.output_size
        shift = (float(rng.uniform(-limit, limit)), float(rng.uniform(-limit, limit)))
    return GeometricParams(flip, angle, scale, shift)


def crop_matrix(crop: CropTransform, geo: GeometricParams) -> np.ndarray:
    """3x3 map from image to crop coordinates: the crop, then the augmentation about its centre."""
    s = crop.scale
    to_crop = np.array([[s, 0.0, -s * crop.x0], [0.0, s, -s * crop.y0], [0.0, 0.0, 1.0]])
    if geo == GeometricParams():
        return to_crop
    c = crop.output_size / 2
    cos, sin = math.cos(math.radians(geo.angle)) * geo.scale, math.sin(math.radians(geo.angle)) * geo.scale
    flip = -1.0 if geo.flip else 1.0
    # x' = R·S·F·(x - c) + c + shift
    linear = np.array([[cos, sin], [-sin, cos]]) @ np.diag([flip, 1.0])
    aug = np.eye(3)
    aug[:2, :2] = linear
    aug[:2, 2] = np.array([c, c]) + np.array(geo.shift) - linear @ np.array([c, c])
    return aug @ to_crop


def cv2_affine(matrix: np.ndarray) -> np.ndarray:
    """The 2x3 matrix ``cv2.warpAffine`` needs (pixel centres at integer indices)."""
    half = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    unhalf = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
    return (unhalf @ matrix @ half)[:2]


def warp(image: np.ndarray, matrix: np.ndarray, size: int, nearest: bool = False) -> np.ndarray:
    """Resample ``image`` into the ``size²`` crop; outside pixels are 0 (bilinear or nearest)."""
    return cv2.warpAffine(image, cv2_affine(matrix), (size, size),
                          flags=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


MAX_WINDOW_PIXELS = 1 << 24
"""Largest crop window (16.8 Mpx) cut out and padded in memory before resizing; a larger one (a
box far larger than the frame) is sampled straight from the frame by ``cv2.warpAffine``, which
gives the same bilinear samples up to rounding instead of allocating gigabytes of padding."""


def render_crop(image: np.ndarray, crop: CropTransform, geo: GeometricParams, nearest: bool = False) -> np.ndarray:
    """``image`` resampled through ``crop_matrix(crop, geo)`` into the ``size²`` crop (outside: 0).

    A whole-pixel crop with at most a flip (the common case) is cut out, zero-padded and resized,
    as STARK's ``sample_target`` does, at ~2.5x less cost for a 320² crop than :func:`warp`. It
    samples as :func:`warp` does (bilinear within rounding, centre-exact nearest exactly), except
    in the outer ceil(s/2 - 1/2) pixels of a crop upscaled s times: there the resize repeats the
    window's edge where the warp would blend in the pixel beyond it. Any other augmentation goes
    through :func:`warp` with the composed matrix, so there is always one resampling; so does a
    window over ``MAX_WINDOW_PIXELS``.
    """
    size = crop.output_size
    side = size / crop.scale
    whole = all(abs(v - round(v)) < 1e-6 for v in (crop.x0, crop.y0, side))
    if (not whole or (geo.angle, geo.scale, geo.shift) != (0.0, 1.0, (0.0, 0.0))
            or side * side > MAX_WINDOW_PIXELS):
        return warp(image, crop_matrix(crop, geo), size, nearest)
    out = _cut_and_resize(image, round(crop.x0), round(crop.y0), round(side), size, nearest)
    return cv2.flip(out, 1) if geo.flip else out


def _cut_and_resize(image: np.ndarray, x0: int, y0: int, side: int, size: int, nearest: bool) -> np.ndarray:
    """The ``side²`` window at ``(x0, y0)`` (zeros outside the image) resized to ``size²``."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = max(x0, 0), max(y0, 0), min(x0 + side, width), min(y0 + side, height)
    if x1 >= x2 or y1 >= y2:
        return np.zeros((size, size, *image.shape[2:]), image.dtype)
    window = image[y1:y2, x1:x2]
    if (x1, y1, x2, y2) != (x0, y0, x0 + side, y0 + side):
        window = cv2.copyMakeBorder(window, y1 - y0, y0 + side - y2, x1 - x0, x0 + side - x2,
                                    cv2.BORDER_CONSTANT, value=0)
    return cv2.resize(window, (size, size), interpolation=cv2.INTER_NEAREST_EXACT if nearest else cv2.INTER_LINEAR)


def transform_box(matrix: np.ndarray, box: np.ndarray) -> np.ndarray:
    """``x, y, w, h`` box mapped by ``matrix``: the axis-aligned hull of its mapped corners."""
    x1, y1, x2, y2 = xywh_to_xyxy(np.asarray(box, np.float64))
    corners = np.array([[x1, x1, x2, x2], [y1, y2, y1, y2], [1.0, 1.0, 1.0, 1.0]])
    mapped = (matrix @ corners)[:2]
    lo, hi = mapped.min(axis=1), mapped.max(axis=1)
    return np.array([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])


def transform_point(matrix: np.ndarray, x: float, y: float) -> tuple[float, float]:
    """A point mapped by ``matrix``."""
    px, py, _ = matrix @ np.array([x, y, 1.0])
    return float(px), float(py)


def padding_mask(matrix: np.ndarray, width: int, height: int, size: int) -> np.ndarray:
    """Bool ``size²`` map, True where the crop pixel's centre comes from outside the image."""
    inverse = np.linalg.inv(matrix)
    centres = np.arange(size) + 0.5
    if inverse[0, 1] == 0 and inverse[1, 0] == 0:  # axis-aligned: separable
        xs = inverse[0, 0] * centres + inverse[0, 2]
        ys = inverse[1, 1] * centres + inverse[1, 2]
        return ((ys < 0) | (ys >= height))[:, None] | ((xs < 0) | (xs >= width))[None, :]
    gx, gy = np.meshgrid(centres, centres)
    xs = inverse[0, 0] * gx + inverse[0, 1] * gy + inverse[0, 2]
    ys = inverse[1, 0] * gx + inverse[1, 1] * gy + inverse[1, 2]
    return (xs < 0) | (xs >= width) | (ys < 0) | (ys >= height)


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """RGB image with its luminance in all three channels."""
    return np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (kernel size from sigma)."""
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma)
