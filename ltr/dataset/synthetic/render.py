"""Pixels of a synthetic frame: background crop, distractors, target, occluders, light, blur.

Textures are made once per sequence (:class:`Appearance`, lazily) and warped into place per
frame from the rasters of :mod:`geometry`, so the returned mask is exactly the target pixels
left showing. Drawing order: background, distractors, target, occluders.
"""
from __future__ import annotations

import cv2
import numpy as np

from ltr.dataset.synthetic.cutouts import VideoFrames
from ltr.dataset.synthetic.geometry import Raster, extent_hits_image, rasterise, target_frame
from ltr.dataset.synthetic.plan import ObjectTrack, ScenePlan


class Appearance:
    """The textures of a plan: object sprites and the clutter-covered background canvas."""

    def __init__(self, plan: ScenePlan) -> None:
        self.plan = plan
        self._sprites: dict[int, np.ndarray] = {}
        self._background: np.ndarray | None = None
        self._video: VideoFrames | None = None
        self._video_canvas: tuple[int, np.ndarray] | None = None

    def sprite(self, track: ObjectTrack) -> np.ndarray:
        """The square texture that :func:`paint` warps onto ``track``'s outline."""
        key = id(track)
        if key not in self._sprites:
            side = track.sprite_side()
            self._sprites[key] = track.texture.render(track.texture_seed, side, side)
        return self._sprites[key]

    def background(self, i: int = 0) -> np.ndarray:
        """The background canvas of frame ``i`` (frame plus ``margin`` on every side) with its
        clutter painted; the same canvas for every frame unless the background is a video."""
        plan = self.plan
        if plan.background.kind == "video":
            if self._video_canvas is None or self._video_canvas[0] != i:
                self._video_canvas = (i, self._paint_clutter(self._video_frame(i)))
            return self._video_canvas[1]
        if self._background is None:
            height, width = plan.height + 2 * plan.margin, plan.width + 2 * plan.margin
            self._background = self._paint_clutter(plan.background.render(plan.background_seed, height, width))
        return self._background

    def _video_frame(self, i: int) -> np.ndarray:
        """Video frame ``video_start + i``, cropped (a fixed window per sequence) and resized to the canvas."""
        plan = self.plan
        if self._video is None:
            self._video = VideoFrames(str(plan.background.image_path))
        frame = self._video.frame(plan.video_start + i)
        height, width = plan.height + 2 * plan.margin, plan.width + 2 * plan.margin
        fh, fw = frame.shape[:2]
        rng = np.random.default_rng(plan.background_seed)
        scale = rng.uniform(0.6, 1.0) * min(fh / height, fw / width)
        ch, cw = max(1, int(height * scale)), max(1, int(width * scale))
        y0, x0 = int(rng.integers(0, fh - ch + 1)), int(rng.integers(0, fw - cw + 1))
        return cv2.resize(frame[y0:y0 + ch, x0:x0 + cw], (width, height), interpolation=cv2.INTER_AREA)

    def _paint_clutter(self, canvas: np.ndarray) -> np.ndarray:
        height, width = canvas.shape[:2]
        for item in self.plan.clutter:
            vertices = item.vertices(0)
            if extent_hits_image(vertices, width, height):
                paint(canvas, item, 0, rasterise(vertices), self.sprite(item))
        return canvas


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
    canvas = appearance.background(i)
    if plan.zoom is not None and plan.zoom[i] != 1.0:
        # frame pixel x shows canvas point pan + W/2 + (x + 0.5 - W/2) / zoom - 0.5
        z = float(plan.zoom[i])
        offset = plan.pan[i] + np.array([width, height]) / 2 * (1 - 1 / z) + 0.5 / z - 0.5
        matrix = np.array([[1 / z, 0, offset[0]], [0, 1 / z, offset[1]]])
        image = cv2.warpAffine(canvas, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT)
    else:
        px, py = np.round(plan.pan[i]).astype(int)
        image = canvas[py:py + height, px:px + width].copy()
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
