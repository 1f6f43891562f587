"""Image preparation shared by the filter and the segmentation step: RGB frames, square crops, tensors.

Crops are affine resamplings (``ltr.data.boxes``), so they are exact for any target position,
including outside the frame (zero padding, as in training) and for odd image sizes.
"""
from __future__ import annotations

import numpy as np
import torch

from ltr.data.boxes import CropTransform, crop_transform, warp_crop

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def square_crop(image: np.ndarray, center: np.ndarray, side: float, size: int) -> tuple[np.ndarray, CropTransform]:
    """The ``side``-pixel square around ``center`` (x, y) resampled to ``size²``, and its transform."""
    transform = crop_transform((float(center[0]), float(center[1])), side, size)
    return warp_crop(image, transform), transform


def to_network_input(crops: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 (N,) H×W×3 crops -> ImageNet-normalised float tensor (N, 3, H, W) on ``device``."""
    batch = torch.from_numpy(np.ascontiguousarray(crops)).to(device)
    if batch.dim() == 3:
        batch = batch.unsqueeze(0)
    batch = batch.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    return (batch - mean) / std
