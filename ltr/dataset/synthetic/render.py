"""Pixels of a synthetic frame: background crop, distractors, target, occluders, light, blur.

Textures are made once per sequence (:class:`Appearance`, lazily) and warped into place per
frame from the rasters of :mod:`geometry`, so the returned mask is exactly the target pixels
left showing. Drawing order: background, distractors, target, occluders.
"""
from __future__ import annotations

import cv2
import numpy as np

from ltr.dataset.synthetic.geometry import Raster, extent_hits_image, rasterise, target_frame
from ltr.dataset.synthetic.plan import ObjectTrack, ScenePlan


class Appearance:
    """The textures of a plan: object sprites and the clutter-covered background canvas."""

    def __init__(self, plan: ScenePlan) -> None:
        self.plan = plan
        self._sprites: dict[int, np.ndarray] = {}
        self._background: np.ndarray | None = None

    def sprite(self, track: ObjectTrack) -> np.ndarray:
        """The square texture that :func:`paint` warps onto ``track``'s outline."""
        key = id(track)
        if key not in self._sprites:
            side = track.sprite_side()
            self._sprites[key] = track.texture.render(track.texture_seed, side, side)
        return self._sprites[key]

    def background(self) -> np.ndarray:
        """The background canvas (frame plus ``margin`` on every side) with its clutter painted."""
        if self._background is None:
            plan = self.plan
            height, width = plan.height + 2 * plan.margin, plan.width + 2 * plan.margin
            canvas = plan.background.render(plan.background_seed, height, width)
            for item in plan.clutter:
                vertices = item.vertices(0)
                if extent_hits_image(vertices, width, height):
                    paint(canvas, item, 0, rasterise(vertices), self.sprite(item))
            self._background = canvas
        return self._background


def paint(image: np.ndarray, track: ObjectTrack, i: int, raster: Raster, sprite: np.ndarray) -> None:
    """Warp ``sprite`` onto ``track``'s pose in frame ``i`` and copy it into ``image`` where
    ``raster`` is set (in place; the part outside ``image`` is dropped)."""
    height, width = image.shape[:2]
    shared = raster.in_image(width, height)
    if shared is None:
        return
    side = sprite.shape[0]
    cos, sin = np.cos(track.angle[i]), np.sin(track.angle[i])
    linear = np.array([[cos, -sin], [sin, cos]]) @ np.diag(track.size[i] / side)
    # sprite pixel u has its centre at unit coordinate (u + 0.5) / side - 0.5; canvas pixel x at x + 0.5 + x0
    offset = track.center[i] + linear @ np.full(2, 0.5 - side / 2) - 0.5 - [raster.x0, raster.y0]
    matrix = np.hstack([linear, offset[:, None]])
    h, w = raster.mask.shape
    patch = cv2.warpAffine(sprite, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    (mask_rows, mask_cols), (image_rows, image_cols) = shared
    np.copyto(image[image_rows, image_cols], patch[mask_rows, mask_cols],
              where=raster.mask[mask_rows, mask_cols, None].astype(bool))


def _illuminate(image: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Scale each channel by its gain (rounded, saturated)."""
    return cv2.transform(image, np.diag(gain))


def _blur(image: np.ndarray, kind: str, strength: float, angle: float) -> np.ndarray:
    """Defocus (Gaussian, sigma ``strength``) or motion blur (a line ``strength`` px long at ``angle``)."""
    if kind == "defocus":
        return cv2.GaussianBlur(image, (0, 0), strength) if strength >= 0.3 else image
    length = round(strength)
    if length < 2:
        return image
    kernel = np.zeros((length, length), np.float32)
    middle = (length - 1) / 2
    dx, dy = middle * np.cos(angle), middle * np.sin(angle)
    ends = [(round(middle + s * dx), round(middle + s * dy)) for s in (-1, 1)]
    cv2.line(kernel, ends[0], ends[1], 1.0)
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def render(plan: ScenePlan, appearance: Appearance, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``i`` as an RGB ``uint8`` ``H x W x 3`` image and the visible-target mask
    (``uint8`` ``H x W``, {0, 1})."""
    width, height = plan.width, plan.height
    px, py = np.round(plan.pan[i]).astype(int)
    image = appearance.background()[py:py + height, px:px + width].copy()
    for track in plan.distractors:
        vertices = track.vertices(i)
        if extent_hits_image(vertices, width, height):
            paint(image, track, i, rasterise(vertices), appearance.sprite(track))
    target = target_frame(plan, i)
    paint(image, plan.target, i, target.full, appearance.sprite(plan.target))
    for track, raster in zip(plan.occluders, target.occluders, strict=True):
        if raster is not None:
            paint(image, track, i, raster, appearance.sprite(track))
    mask = np.zeros((height, width), np.uint8)
    shared = target.full.in_image(width, height)
    if shared is not None:
        mask[shared[1]] = target.visible[shared[0]]
    image = _illuminate(image, plan.gain[i])
    image = _blur(image, plan.blur_kind, float(plan.blur_strength[i]), plan.blur_angle)
    return image, mask
