"""Frame preparation for BIT: RGB frames, square crops with padding masks, normalised tensors.

Crops are made exactly as training makes them (:mod:`ltr.data.processing` without jitter): a
square of ``ceil(factor · sqrt(w·h))`` pixels whose origin is rounded to the pixel grid
(STARK's ``sample_target``: ``x1 = round(cx − side/2)``), cut out of the frame, zero-padded
outside it (recorded in the padding mask, which the network uses as its attention mask) and
resized bilinearly (:func:`ltr.data.transforms.render_crop`). The returned transform holds the
rounded origin, so boxes map back to the frame without the up-to-half-pixel offset a
crop-centred mapping would add.

The uint8 crop becomes the network input in one fused step, ``x · 1/(255·std) - mean/std``
(:func:`torch.addcmul`, the same numbers as ``(x/255 - mean)/std`` up to float rounding), written
into a buffer kept per crop size in the memory format the network wants (NHWC for a
channels_last network: the HWC crop is read as it lies, with no layout round trip).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ltr.data.boxes import CropTransform, crop_side_for_box, crop_transform
from ltr.data.transforms import GeometricParams, render_crop
from ltr.models.backbone.pretrained import IMAGENET_MEAN, IMAGENET_STD


@dataclass
class Crop:
    """One network input: image (1, 3, s, s), padding mask (1, s, s) True = padded, and the
    transform from frame to crop coordinates. ``image`` lives in the :class:`CropMaker`'s
    buffer for its size: it is valid until the next crop of the same size."""

    image: torch.Tensor
    mask: torch.Tensor
    transform: CropTransform


class CropMaker:
    """Crops a frame around a box and normalises it for the network on ``device``.

    ``memory_format``: the layout of the image tensors it returns (the network's input format,
    :func:`ltr.models.inference.input_memory_format`).
    """

    def __init__(self, device: torch.device, memory_format: torch.memory_format = torch.contiguous_format) -> None:
        self.device = device
        self.memory_format = memory_format
        mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float64).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, dtype=torch.float64).view(1, 3, 1, 1)
        self.scale = (1.0 / (255.0 * std)).float().to(device)
        self.shift = (-mean / std).float().to(device)
        self._buffers: dict[tuple[int, int], torch.Tensor] = {}

    def normalise(self, crop: np.ndarray) -> torch.Tensor:
        """RGB uint8 ``H x W x 3`` -> (1, 3, H, W) float ImageNet-normalised, in this maker's buffer."""
        height, width = crop.shape[:2]
        buffer = self._buffers.get((height, width))
        if buffer is None:
            buffer = torch.empty((1, 3, height, width), device=self.device).contiguous(memory_format=self.memory_format)
            self._buffers[(height, width)] = buffer
        pixels = torch.from_numpy(crop).to(self.device, non_blocking=True).permute(2, 0, 1)[None]
        return torch.addcmul(self.shift, pixels, self.scale, out=buffer)

    def __call__(self, image: np.ndarray, box: np.ndarray, factor: float, size: int) -> Crop:
        """``image`` RGB uint8, ``box`` x, y, w, h (w, h > 0); a ``size``² crop of ``factor``× the box."""
        center = (float(box[0]) + float(box[2]) / 2, float(box[1]) + float(box[3]) / 2)
        transform = crop_transform(center, crop_side_for_box(box, factor), size, whole_pixels=True)
        crop = render_crop(image, transform, GeometricParams())
        pad = transform.padding_mask(image.shape[1], image.shape[0])
        return Crop(self.normalise(crop), torch.from_numpy(pad).to(self.device)[None], transform)
