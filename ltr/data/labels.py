"""Extra per-crop labels computed by processing: distance maps and downsampled padding masks."""
from __future__ import annotations

import numpy as np


def distance_map(center: tuple[float, float], size: int) -> np.ndarray:
    """``size²`` float32 map of each pixel centre's distance (crop pixels) from ``center``.

    JCAT/D3S feed it to the segmentation network as a hint of where the target is.
    """
    coords = np.arange(size, dtype=np.float32) + 0.5
    dx = (coords - np.float32(center[0]))[None, :]
    dy = (coords - np.float32(center[1]))[:, None]
    return np.sqrt(dx * dx + dy * dy)


def downsample_padding(pad: np.ndarray, stride: int) -> np.ndarray:
    """Padding masks ``(N, H, W)`` at feature resolution ``(H//stride, W//stride)``.

    Nearest neighbour exactly as STARK's ``F.interpolate(mask, size)``: output cell ``i``
    takes input pixel ``floor(i · H / (H // stride))``.
    """
    height, width = pad.shape[-2:]
    rows = (np.arange(height // stride) * (height / (height // stride))).astype(np.int64)
    cols = (np.arange(width // stride) * (width / (width // stride))).astype(np.int64)
    return pad[:, rows[:, None], cols[None, :]]
