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


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A ``uint8`` H×W×3 view of a colour or grayscale (H×W or H×W×1) frame."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an H x W (x 1|3|4) image, got shape {image.shape}")
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)


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
