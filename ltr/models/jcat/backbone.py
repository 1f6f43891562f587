"""The JCAT feature extractor: a frozen torchvision ResNet holding every weight of the release.

The release stores the whole ResNet (``layer4`` and ``fc`` included) under
``feature_extractor.*``; they are kept so the release loads strictly, but never computed.
"""
from __future__ import annotations

from torch import nn

from ltr.models.backbone.resnet import OUT_CHANNELS, ResNetBackbone

TAPS = ("conv1", "layer1", "layer2", "layer3")
IMAGENET_CLASSES = 1000


class JcatBackbone(ResNetBackbone):
    """ResNet with BatchNorm statistics (``num_batches_tracked`` keys), frozen, returning ``TAPS``."""

    def __init__(self, name: str = "resnet50", weights: str | None = None) -> None:
        super().__init__(name, output_layers=TAPS, last_layer="layer4", frozen_bn=False, frozen_layers=(),
                         weights=weights)
        self.fc = nn.Linear(OUT_CHANNELS[name]["layer4"], IMAGENET_CLASSES)  # release layout only
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "JcatBackbone":
        """Always eval mode: BatchNorm uses its stored statistics, as in the published training."""
        return super().train(False)
