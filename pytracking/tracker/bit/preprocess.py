"""Frame preparation for BIT: RGB frames, square crops with padding masks, normalised tensors.

Crops are made exactly as training makes them (:mod:`ltr.data.processing` without jitter): a
square of ``ceil(factor · sqrt(w·h))`` pixels whose origin is rounded to the pixel grid
(STARK's ``sample_target``: ``x1 = round(cx − side/2)``), cut out of the frame, zero-padded
outside it (recorded in the padding mask, which the network uses as its attention mask) and
resized bilinearly (:func:`ltr.data.transforms.render_crop`). The returned transform holds the
rounded origin, so boxes map back to the frame without the up-to-half-pixel offset a
crop-centred mapping would add.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ltr.data.boxes import CropTransform, crop_side_for_box, crop_transform
from ltr.data.transforms import GeometricParams, render_crop

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
        center = (float(box[0]) + float(box[2]) / 2, float(box[1]) + float(box[3]) / 2)
        transform = crop_transform(center, crop_side_for_box(box, factor), size, whole_pixels=True)
        crop = render_crop(image, transform, GeometricParams())
        pad = transform.padding_mask(image.shape[1], image.shape[0])
        tensor = torch.from_numpy(crop).to(self.device).permute(2, 0, 1)[None].float().div_(255.0)
        tensor = tensor.sub_(self.mean).div_(self.std)
        return Crop(tensor, torch.from_numpy(pad).to(self.device)[None], transform)
