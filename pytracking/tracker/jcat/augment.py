"""First-frame augmentation of the filter's training samples (official JCAT / pytracking).

The official parameters: a crop ``expansion`` (2) × the sample size is cut around the rounded
position, and each transform maps it to one ``sample_size²`` sample: the identity, 8 relative
shifts (±0.25 and ±0.75 of half the sample in both axes), a horizontal flip, 5 anisotropic
Gaussian blurs (σ_y, σ_x) and 12 rotations — 27 samples. Each transform works on the
expanded crop and then takes its centre (moved by the shift), so rotations and blurs see real
image content at the borders; outside the expanded crop edges are replicated, as pytracking's
``Transform.crop_to_output`` does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

RELATIVE_SHIFTS = ((0.25, 0.25), (-0.25, 0.25), (0.25, -0.25), (-0.25, -0.25),
                   (0.75, 0.75), (-0.75, 0.75), (0.75, -0.75), (-0.75, -0.75))  # (rows, cols)
BLURS = ((2.0, 0.2), (0.2, 2.0), (3.0, 1.0), (1.0, 3.0), (2.0, 2.0))  # (σ_rows, σ_cols)
ROTATIONS = (5, -5, 10, -10, 20, -20, 30, -30, 45, -45, -60, 60)  # degrees, cv2 convention
EXPANSION = 2.0


@dataclass(frozen=True)
class Augmentation:
    """One transform: ``kind`` with its parameter, and the target's shift (rows, cols) in sample px."""

    kind: str  # identity | shift | flip | blur | rotate
    param: tuple[float, ...] = ()
    shift: tuple[int, int] = (0, 0)


def official_augmentations(sample_size: int) -> list[Augmentation]:
    """The official 27 transforms, in the official order."""
    half = sample_size / 2
    out = [Augmentation("identity")]
    out += [Augmentation("shift", shift=(int(r * half), int(c * half))) for r, c in RELATIVE_SHIFTS]
    out.append(Augmentation("flip"))
    out += [Augmentation("blur", param=b) for b in BLURS]
    out += [Augmentation("rotate", param=(float(a),)) for a in ROTATIONS]
    return out


def flip_augmentations() -> list[Augmentation]:
    """The identity and a horizontal flip (the project's cheaper variant)."""
    return [Augmentation("identity"), Augmentation("flip")]


def expanded_size(sample_size: int) -> int:
    """Side of the expanded crop (official: ``long(size·2)`` made of the same parity as size)."""
    size = int(sample_size * EXPANSION)
    return size + (size - sample_size) % 2


def _centre(image: np.ndarray, out: int, shift: tuple[int, int]) -> np.ndarray:
    """The ``out²`` window at the centre moved by ``−shift`` (the content moves by +shift)."""
    pad_top = math.floor((out - image.shape[0]) / 2) + shift[0]
    pad_left = math.floor((out - image.shape[1]) / 2) + shift[1]
    y0, x0 = -pad_top, -pad_left
    ys = np.clip(np.arange(y0, y0 + out), 0, image.shape[0] - 1)
    xs = np.clip(np.arange(x0, x0 + out), 0, image.shape[1] - 1)
    return image[np.ix_(ys, xs)]


def _gaussian(sigma: float) -> np.ndarray:
    radius = math.ceil(2 * sigma)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-x ** 2 / (2 * sigma ** 2))
    return (k / k.sum()).astype(np.float32)


def apply(aug: Augmentation, image: np.ndarray, out: int) -> np.ndarray:
    """``aug`` applied to the expanded crop ``image`` (float32 H×W×C), giving an ``out²`` sample."""
    if aug.kind == "flip":
        image = image[:, ::-1]
    elif aug.kind == "blur":
        image = cv2.sepFilter2D(image, -1, _gaussian(aug.param[1]), _gaussian(aug.param[0]),
                                borderType=cv2.BORDER_REPLICATE)
    elif aug.kind == "rotate":
        centre = ((image.shape[1] - 1) / 2, (image.shape[0] - 1) / 2)
        matrix = cv2.getRotationMatrix2D(centre, aug.param[0], 1.0)
        image = cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    elif aug.kind not in ("identity", "shift"):
        raise ValueError(f"unknown augmentation {aug.kind!r}")
    return np.ascontiguousarray(_centre(image, out, aug.shift))
