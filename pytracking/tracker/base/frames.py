"""Frame normalisation shared by the trackers: any colour or grayscale frame to RGB uint8."""
from __future__ import annotations

import numpy as np


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A contiguous ``uint8`` H×W×3 array from a colour (H×W×3/4) or grayscale (H×W, H×W×1) frame."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4) or min(image.shape[:2]) < 1:
        raise ValueError(f"expected an H x W (x 1|3|4) image, got shape {image.shape}")
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)


def sequence_frame(image: np.ndarray, width: int, height: int, index: int) -> np.ndarray:
    """:func:`as_rgb` of frame ``index`` (0-based) of a sequence whose first frame was ``width x height``;
    another size is refused, since the trackers keep their boxes in the first frame's coordinates."""
    image = as_rgb(image)
    if image.shape[:2] != (height, width):
        raise ValueError(f"frame {index} (0-based) is {image.shape[1]}x{image.shape[0]}, the first frame "
                         f"{width}x{height}; a sequence must keep one frame size")
    return image
