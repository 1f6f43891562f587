"""Real objects cut from photos, and real backgrounds (photos or video frames), for the generator.

An *object folder* holds images of objects. Each becomes a :class:`Cutout`: its mask comes from
the alpha channel, or from a ``<stem>_mask.png`` file beside it (non-zero = object), or else is
the whole image (a box cut-out). The cut-out's outline is the largest mask contour as a polygon in
the unit square, so the generator rasterises, pastes and measures it exactly like its procedural
shapes: boxes and masks stay exact because what is pasted is that polygon's raster.

A *background folder* holds photos and/or videos (any file OpenCV reads). Folders are searched
recursively in sorted order; files that cannot be read are skipped and counted
(:func:`scan_folder`), and a folder with no usable file is an error naming it.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ltr.data.image_io import ImageReadError, check_image_pixels

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".ogv")
MASK_SUFFIX = "_mask.png"
MIN_OBJECT_PIXELS = 64  # smaller masks give outlines too coarse to track
OUTLINE_TOLERANCE = 0.004  # polygon approximation error, fraction of the mask's perimeter


class MediaError(ValueError):
    """A media folder or file that cannot serve the generator."""


@dataclass(frozen=True)
class FolderScan:
    """Usable files of a folder, and the ones skipped with the reason."""

    files: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Cutout:
    """An object image tight around its mask: RGB ``uint8`` pixels (transparent pixels filled
    with nearby object colours), the ``{0,1}`` mask, and the outline polygon (``K x 2``, unit square)."""

    pixels: np.ndarray
    mask: np.ndarray
    outline: np.ndarray

    @property
    def aspect(self) -> float:
        """Width over height of the cut-out."""
        return self.pixels.shape[1] / self.pixels.shape[0]


def is_video(path: str) -> bool:
    """Whether ``path`` names a video (by suffix) rather than a photo."""
    return path.lower().endswith(VIDEO_SUFFIXES)


def _candidates(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(suffixes)
                  and not p.name.lower().endswith(MASK_SUFFIX))


@functools.lru_cache(maxsize=16)
def scan_folder(folder: str, kind: str) -> FolderScan:
    """Usable ``kind`` files (``"objects"``: images; ``"backgrounds"``: images and videos) under
    ``folder``, each checked by decoding it; unreadable ones are skipped with a warning and a count."""
    root = Path(folder)
    if not root.is_dir():
        raise MediaError(f"{kind} folder {root} is not a folder")
    suffixes = IMAGE_SUFFIXES + (VIDEO_SUFFIXES if kind == "backgrounds" else ())
    files, skipped = [], []
    for path in _candidates(root, suffixes):
        try:
            if kind == "objects":
                load_cutout(str(path))
            elif is_video(str(path)):
                video_length(str(path))
            else:
                load_image(str(path))
            files.append(str(path))
        except MediaError as err:
            skipped.append((str(path), str(err)))
    if skipped:
        logger.warning("%s: skipped %d of %d %s file(s) that cannot be used, e.g. %s", root, len(skipped),
                       len(skipped) + len(files), kind, skipped[0][1])
    if not files:
        raise MediaError(f"{kind} folder {root} holds no usable {'/'.join(suffixes)} file"
                         + (f" ({len(skipped)} skipped, e.g. {skipped[0][1]})" if skipped else ""))
    return FolderScan(tuple(files), tuple(skipped))


def _decode(path: str, flags: int) -> np.ndarray:
    data = np.fromfile(path, np.uint8) if Path(path).is_file() else None
    if data is None or data.size == 0:
        raise MediaError(f"{path}: missing or empty file")
    try:
        check_image_pixels(Path(path), data.tobytes())
        image = cv2.imdecode(data, flags)
    except (ImageReadError, cv2.error) as err:
        raise MediaError(f"{path}: not a readable image ({str(err).strip().splitlines()[-1]})") from None
    if image is None or image.size == 0:
        raise MediaError(f"{path}: not a readable image")
    return image


@functools.lru_cache(maxsize=64)
def load_image(path: str) -> np.ndarray:
    """An RGB ``uint8`` photo (alpha dropped); :class:`MediaError` naming the file otherwise."""
    image = _decode(path, cv2.IMREAD_COLOR)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _outline(mask: np.ndarray, path: str) -> np.ndarray:
    """The largest contour of ``mask`` as a polygon scaled to span ``[-0.5, 0.5]`` on each axis."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea)
    tolerance = max(0.5, OUTLINE_TOLERANCE * cv2.arcLength(contour, True))
    polygon = cv2.approxPolyDP(contour, tolerance, True)[:, 0, :].astype(np.float64)
    if len(polygon) < 3:
        raise MediaError(f"{path}: object mask has no usable outline")
    # contour points are pixel indices; pixel k covers [k, k+1), so the outline passes through centres + 0.5
    polygon += 0.5
    lo, hi = polygon.min(axis=0), polygon.max(axis=0)
    if np.any(hi - lo <= 0):
        raise MediaError(f"{path}: object mask is a line")
    return (polygon - (lo + hi) / 2) / (hi - lo)


def _fill_transparent(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Replace pixels outside ``mask`` with the colour of the nearest object pixel, so a polygon
    edge that strays a pixel outside the alpha shows object colours, not a halo."""
    if mask.all():
        return rgb
    _, labels = cv2.distanceTransformWithLabels((mask == 0).astype(np.uint8), cv2.DIST_L2, 3,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    ys, xs = np.nonzero(mask)
    colour_of_label = np.zeros((labels.max() + 1, 3), np.uint8)
    colour_of_label[labels[ys, xs]] = rgb[ys, xs]
    return np.where(mask[..., None].astype(bool), rgb, colour_of_label[labels])


@functools.lru_cache(maxsize=256)
def load_cutout(path: str) -> Cutout:
    """The :class:`Cutout` of the object image at ``path`` (see the module docstring for the mask)."""
    image = _decode(path, cv2.IMREAD_UNCHANGED)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(float(image.max()), 1.0))
    mask_path = Path(path).with_name(Path(path).stem + MASK_SUFFIX)
    if mask_path.is_file():
        mask = (_decode(str(mask_path), cv2.IMREAD_GRAYSCALE) > 0).astype(np.uint8)
        if mask.shape != image.shape[:2]:
            raise MediaError(f"{mask_path}: mask is {mask.shape[1]}x{mask.shape[0]}, image "
                             f"{image.shape[1]}x{image.shape[0]}")
    elif image.shape[2] == 4:
        mask = (image[..., 3] >= 128).astype(np.uint8)
    else:
        mask = np.ones(image.shape[:2], np.uint8)
    rgb = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2RGB)
    if int(mask.sum()) < MIN_OBJECT_PIXELS:
        raise MediaError(f"{path}: object mask has {int(mask.sum())} pixels (< {MIN_OBJECT_PIXELS})")
    # keep only the largest component: the outline describes one connected object
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = (labels == largest).astype(np.uint8)
    x, y, w, h = (int(v) for v in stats[largest, :4])
    mask, rgb = mask[y:y + h, x:x + w], rgb[y:y + h, x:x + w]
    if int(mask.sum()) < MIN_OBJECT_PIXELS or min(w, h) < 4:
        raise MediaError(f"{path}: object is too small ({w}x{h} px)")
    return Cutout(_fill_transparent(rgb, mask), mask, _outline(mask, path))


def cutout_sprite(path: str, height: int, width: int, seed: int) -> np.ndarray:
    """The cut-out at ``path`` resized to ``height x width`` with a mild per-seed colour jitter
    (distractors of the same object differ slightly)."""
    pixels = load_cutout(path).pixels
    shrinking = width * height < pixels.shape[0] * pixels.shape[1]
    sprite = cv2.resize(pixels, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    rng = np.random.default_rng(seed)
    gain = rng.uniform(0.85, 1.15, 3)
    return cv2.transform(sprite, np.diag(gain))


@functools.lru_cache(maxsize=16)
def video_length(path: str) -> int:
    """Number of frames OpenCV reads from the video at ``path`` (at least one), checked by reading
    the first frame."""
    capture = cv2.VideoCapture(path)
    try:
        ok, _ = capture.read()
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
    if not ok:
        raise MediaError(f"{path}: OpenCV cannot read a frame of this video")
    return max(1, count)


class VideoFrames:
    """Sequential access to a video's frames (RGB), re-opening and seeking only when asked for an
    earlier frame or one far ahead; the last frame repeats past the end."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._capture: cv2.VideoCapture | None = None
        self._next = 0
        self._last: np.ndarray | None = None

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) as RGB ``uint8``."""
        if self._capture is None or index < self._next - 1 or index > self._next + 30:
            if self._capture is not None:
                self._capture.release()
            self._capture = cv2.VideoCapture(self.path)
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            self._next, self._last = index, None
        if index == self._next - 1 and self._last is not None:
            return self._last
        while self._next <= index:
            ok, bgr = self._capture.read()
            if not ok:
                if self._last is None:
                    raise MediaError(f"{self.path}: cannot read frame {index}")
                return self._last
            self._last = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            self._next += 1
        assert self._last is not None
        return self._last
