"""JCAT's segmentation loss: two-channel BCE with extra weight on the target's contour (jcat.md).

Both output channels are read as ``p = sigmoid(logit / 2)``: channel 0 (target) is fitted to the
mask with the weight of contour positives raised by 1 (the boundary is what the mask -> box step
depends on), channel 1 (background) to ``1 - mask``; the loss is the mean over pixels.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def mask_contour(mask: torch.Tensor) -> torch.Tensor:
    """Float map of the mask pixels (B, H, W) with a 4-/8-neighbour outside the mask (morphological edge)."""
    outside = 1.0 - mask.unsqueeze(1)
    touches_outside = F.max_pool2d(outside, kernel_size=3, stride=1, padding=1)[:, 0]
    return mask * touches_outside


def contour_weighted_segmentation_loss(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean BCE of ``logits`` (B, 2, H, W) against a {0, 1} ``mask`` (B, H, W); see the module doc."""
    if logits.dim() != 4 or logits.shape[1] != 2:
        raise ValueError(f"logits must be (B, 2, H, W), got {tuple(logits.shape)}")
    if mask.shape != logits[:, 0].shape:
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match logits {tuple(logits.shape)}")
    mask = mask.to(logits.dtype)
    weight = 1.0 + mask_contour(mask)
    target = F.binary_cross_entropy_with_logits(logits[:, 0] / 2, mask, weight=weight)
    background = F.binary_cross_entropy_with_logits(logits[:, 1] / 2, 1.0 - mask)
    return target + background


class ContourWeightedSegmentationLoss(nn.Module):
    """Module form of :func:`contour_weighted_segmentation_loss` (for the actor's objective)."""

    def forward(self, logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return contour_weighted_segmentation_loss(logits, mask)
