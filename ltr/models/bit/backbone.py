"""BIT's CNN side: ResNet body + 2-D sine position encoding, STARK ``backbone`` layout.

``Joiner`` is an ``nn.Sequential`` of (``MaskedBackbone``, ``PositionEmbeddingSine``), so its
parameters are named ``backbone.0.body.*`` exactly as in STARK checkpoints.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ltr.models.backbone.efficientnet import EfficientNetLiteBackbone
from ltr.models.backbone.resnet import ResNetBackbone
from ltr.models.layers import PositionEmbeddingSine


class MaskedBackbone(nn.Module):
    """ResNet (or EfficientNet-Lite0) truncated after layer3 (stride 16, or 8 with ``stride=8``; by
    default frozen BN and conv1+layer1 frozen, as STARK) that also downsamples the crop's padding
    mask to the feature grid."""

    def __init__(self, name: str, weights: str | None = None, frozen_bn: bool = True,
                 frozen_layers: Sequence[str] = ("conv1", "layer1"), stride: int = 16) -> None:
        super().__init__()
        if stride not in (8, 16):
            raise ValueError(f"BIT's backbone stride must be 8 or 16, got {stride}")
        if name == "efficientnet_lite0":
            self.body = EfficientNetLiteBackbone(output_layers=("layer3",), frozen_bn=frozen_bn,
                                                 frozen_layers=frozen_layers, weights=weights, layer3_stride=stride // 8)
        else:
            self.body = ResNetBackbone(name, output_layers=("layer3",), frozen_bn=frozen_bn,
                                       frozen_layers=frozen_layers, weights=weights, layer3_stride=stride // 8)
        self.num_channels = self.body.out_channels["layer3"]

    def forward(self, images: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, H, W) images and (B, H, W) bool masks -> layer3 map and its (B, h, w) mask."""
        feat = self.body(images)["layer3"]
        mask = F.interpolate(masks[:, None].float(), size=feat.shape[-2:]).to(torch.bool)[:, 0]
        return feat, mask


class Joiner(nn.Sequential):
    """``[0]`` the masked backbone, ``[1]`` the (parameter-free) sine position encoding."""

    def __init__(self, backbone: MaskedBackbone, position_encoding: PositionEmbeddingSine) -> None:
        super().__init__(backbone, position_encoding)
        self.num_channels = backbone.num_channels

    def forward(self, images: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (layer3 feature, downsampled mask, position encoding (B, d_model, h, w))."""
        feat, mask = self[0](images, masks)
        return feat, mask, self[1](mask).to(feat.dtype)
