"""Procedural textures (noise, stripes, checker, gradient) and photo crops, coloured by a palette.

A :class:`TextureSpec` fixes a texture's family (kind, colours, photo); the seed passed to
:meth:`TextureSpec.render` fixes the details (orientation, period, noise). Distractors reuse
the target's spec with another seed, so they look alike without being identical.
"""
from __future__ import annotations

import colorsys
import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ltr.data.image_io import imread

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


@dataclass(frozen=True)
class TextureSpec:
    """A texture family: ``kind`` is a procedural kind, ``"image"`` (a crop of the photo
    ``image_path``), ``"cutout"`` (the real object at ``image_path``, see :mod:`.cutouts`) or
    ``"video"`` (frames of the video ``image_path``; rendered per frame by the renderer). The
    palette is unused by the photo kinds."""

    kind: str
    palette: tuple[tuple[int, int, int], ...]  # RGB colours the scalar pattern runs through
    image_path: str | None = None

    def render(self, seed: int, height: int, width: int) -> np.ndarray:
        """An RGB ``uint8`` ``height x width x 3`` texture, a pure function of (spec, seed, size)."""
        rng = np.random.default_rng(seed)
        if self.kind == "image":
            return _photo_crop(self.image_path, rng, height, width)
        if self.kind == "cutout":
            from ltr.dataset.synthetic.cutouts import cutout_sprite

            return cutout_sprite(str(self.image_path), height, width, seed)
        if self.kind == "video":
            raise ValueError("a video texture is rendered frame by frame (render.Appearance), not once")
        pattern = _PATTERNS[self.kind](rng, height, width)
        return colourise(pattern, self.palette)


def palette(rng: np.random.Generator, hue: float, colours: int = 3) -> tuple[tuple[int, int, int], ...]:
    """``colours`` RGB colours around ``hue`` (0..1) with varied saturation and brightness."""
    out = []
    for _ in range(colours):
        h = (hue + rng.uniform(-0.06, 0.06)) % 1.0
        r, g, b = colorsys.hsv_to_rgb(h, rng.uniform(0.35, 1.0), rng.uniform(0.25, 1.0))
        out.append((int(r * 255), int(g * 255), int(b * 255)))
    return tuple(out)


def colourise(pattern: np.ndarray, colours: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    """Map a float pattern in [0, 1] through the piecewise-linear colour ramp ``colours``."""
    stops = np.linspace(0.0, 1.0, len(colours))
    ramp = np.arange(256) / 255.0
    lut = np.stack([np.interp(ramp, stops, [c[k] for c in colours]) for k in range(3)], axis=1)
    index = np.clip(pattern * 255.0, 0, 255).astype(np.uint8)
    return lut.astype(np.uint8)[index]


def _normalise(field: np.ndarray) -> np.ndarray:
    lo, hi = float(field.min()), float(field.max())
    return (field - lo) / (hi - lo) if hi > lo else np.zeros_like(field)


def _noise(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Multi-octave value noise: upsampled random grids, coarse ones weighted most."""
    field = np.zeros((height, width), np.float32)
    cells = int(rng.integers(2, 6))
    for octave in range(4):
        grid = rng.random((cells * 2 ** octave + 1, cells * 2 ** octave + 1), dtype=np.float32)
        field += cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC) * 0.5 ** octave
    return _normalise(field)


def _coords(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates rotated by a random angle (u along the pattern, v across it)."""
    angle = rng.uniform(0, np.pi)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return x * np.cos(angle) + y * np.sin(angle), -x * np.sin(angle) + y * np.cos(angle)


def _stripes(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    u, _ = _coords(rng, height, width)
    wave = np.sin(u * (2 * np.pi / (rng.uniform(0.1, 0.35) * min(height, width))) + rng.uniform(0, 2 * np.pi))
    stripes = (wave > 0).astype(np.float32) if rng.random() < 0.5 else 0.5 + 0.5 * wave
    return 0.8 * stripes + 0.2 * _noise(rng, height, width)


def _checker(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    u, v = _coords(rng, height, width)
    cell = rng.uniform(0.12, 0.3) * min(height, width)
    parity = (np.floor(u / cell) + np.floor(v / cell)) % 2
    return 0.75 * parity.astype(np.float32) + 0.25 * _noise(rng, height, width)


def _gradient(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    if rng.random() < 0.5:
        ramp, _ = _coords(rng, height, width)
    else:
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        ramp = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    return 0.8 * _normalise(ramp) + 0.2 * _noise(rng, height, width)


_PATTERNS = {"noise": _noise, "stripes": _stripes, "checker": _checker, "gradient": _gradient}


@functools.lru_cache(maxsize=4)
def list_images(folder: str) -> tuple[str, ...]:
    """Sorted image files directly in ``folder``; an error when there are none."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"image_folder {root} is not a folder")
    files = tuple(sorted(str(p) for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
    if not files:
        raise FileNotFoundError(f"image_folder {root} holds no {'/'.join(sorted(IMAGE_SUFFIXES))} images")
    return files


@functools.lru_cache(maxsize=8)
def _load_photo(path: str) -> np.ndarray:
    return imread(path)


def _photo_crop(path: str | None, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random crop of the photo at ``path`` with the requested aspect, resized to the size."""
    if path is None:
        raise ValueError("an 'image' texture needs an image_path")
    photo = _load_photo(path)
    ph, pw = photo.shape[:2]
    scale = rng.uniform(0.4, 1.0) * min(ph / height, pw / width)
    ch, cw = max(1, int(height * scale)), max(1, int(width * scale))
    y0, x0 = int(rng.integers(0, ph - ch + 1)), int(rng.integers(0, pw - cw + 1))
    return cv2.resize(photo[y0:y0 + ch, x0:x0 + cw], (width, height), interpolation=cv2.INTER_AREA)
