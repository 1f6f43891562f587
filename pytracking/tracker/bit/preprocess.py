"""Frame preparation for BIT: RGB frames, square crops with padding masks, normalised tensors.

Crops are affine resamplings (:func:`ltr.data.boxes.crop_around_box`), exactly as in training:
a square of ``factor · sqrt(w·h)`` around the box centre, zero padding outside the frame
(recorded in the padding mask, which the network uses as its attention mask).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ltr.data.boxes import CropTransform, crop_around_box

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class Crop:
    """One network input: image (1, 3, s, s), padding mask (1, s, s) True = padded, and the
    transform from frame to crop coordinates."""

    image: torch.Tensor
    mask: torch.Tensor
    transform: CropTransform


class CropMaker:
    """Crops a frame around a box and normalises it for the network on ``device``."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)

    def __call__(self, image: np.ndarray, box: np.ndarray, factor: float, size: int) -> Crop:
        """``image`` RGB uint8, ``box`` x, y, w, h (w, h > 0); a ``size``² crop of ``factor``× the box."""
        crop, pad, transform, _ = crop_around_box(image, box, factor, size)
        tensor = torch.from_numpy(crop).to(self.device).permute(2, 0, 1)[None].float().div_(255.0)
        tensor = tensor.sub_(self.mean).div_(self.std)
        return Crop(tensor, torch.from_numpy(pad).to(self.device)[None], transform)
