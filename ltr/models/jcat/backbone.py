"""The JCAT feature extractor: a frozen torchvision ResNet holding every weight of the release.

The release stores the whole ResNet (``layer4`` and ``fc`` included) under
``feature_extractor.*``; they are kept so the release loads strictly, but never computed.
:func:`build_jcat_backbone` also offers a frozen EfficientNet-Lite0 with the same taps (the tiny
net's ImageNet backbone that ships with the project's dependencies).
"""
from __future__ import annotations

from pathlib import Path

from torch import nn

from ltr.models.backbone.efficientnet import EfficientNetLiteBackbone
from ltr.models.backbone.pretrained import load_matching, tracker_backbone_state
from ltr.models.backbone.resnet import OUT_CHANNELS, ResNetBackbone

TAPS = ("conv1", "layer1", "layer2", "layer3")
IMAGENET_CLASSES = 1000
UNUSED_PREFIXES = ("layer4.", "fc.")  # kept for the release layout, never computed


class JcatBackbone(ResNetBackbone):
    """ResNet with BatchNorm statistics (``num_batches_tracked`` keys), frozen, returning ``TAPS``."""

    def __init__(self, name: str = "resnet50", weights: str | None = None) -> None:
        super().__init__(name, output_layers=TAPS, last_layer="layer4", frozen_bn=False, frozen_layers=(),
                         weights=weights)
        self.fc = nn.Linear(OUT_CHANNELS[name]["layer4"], IMAGENET_CLASSES)  # release layout only
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def load_local_weights(self, path: str | Path) -> list[str]:
        """Load a torchvision ResNet state_dict, or the ResNet inside a BIT/JCAT checkpoint of this
        project (its ``backbone.0.body.*`` / ``feature_extractor.*`` keys); ``layer4``/``fc`` may be
        absent (never computed). Missing or mis-shaped computed layers are an error naming the file."""
        from ltr.admin.checkpoint import load_state_dict_file

        path = Path(path)
        state = tracker_backbone_state(load_state_dict_file(path))
        return load_matching(self, state, path, self.name, optional=UNUSED_PREFIXES)

    def train(self, mode: bool = True) -> "JcatBackbone":
        """Always eval mode: BatchNorm uses its stored statistics, as in the published training."""
        return super().train(False)


def build_jcat_backbone(name: str, weights: str | None) -> nn.Module:
    """The frozen backbone ``name`` returning ``TAPS``: a :class:`JcatBackbone` ResNet (release
    layout) or EfficientNet-Lite0 (BatchNorm on stored statistics, every weight frozen)."""
    if name == "efficientnet_lite0":
        backbone = EfficientNetLiteBackbone(output_layers=TAPS, frozen_bn=True, frozen_layers=TAPS, weights=weights)
        return backbone.eval()
    return JcatBackbone(name, weights)
