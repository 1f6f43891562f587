"""torchvision ResNets as feature extractors: truncated at a chosen layer, optional frozen BN.

The module keeps torchvision's attribute names (conv1, bn1, layer1, ...), so torchvision
state_dicts, STARK's ``backbone.0.body.*`` and JCAT's ``feature_extractor.*`` keys map onto it
by prefix alone. Initial weights: ``weights`` is ``imagenet`` (torchvision's release, downloaded
once into the torch cache), ``none``, unset (random, warned) or a local state_dict file
(:mod:`ltr.models.backbone.pretrained`).
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import torch
import torchvision
from torch import nn
from torchvision.ops.misc import FrozenBatchNorm2d

from ltr.models.backbone.pretrained import load_matching, load_state_dict, resnet_imagenet_url, weights_file
from ltr.models.registry import BACKBONES

logger = logging.getLogger(__name__)

LAYER_ORDER = ("conv1", "layer1", "layer2", "layer3", "layer4")
OUT_CHANNELS = {
    "resnet18": {"conv1": 64, "layer1": 64, "layer2": 128, "layer3": 256, "layer4": 512},
    "resnet34": {"conv1": 64, "layer1": 64, "layer2": 128, "layer3": 256, "layer4": 512},
    "resnet50": {"conv1": 64, "layer1": 256, "layer2": 512, "layer3": 1024, "layer4": 2048},
    "resnet101": {"conv1": 64, "layer1": 256, "layer2": 512, "layer3": 1024, "layer4": 2048},
}
STRIDES = {"conv1": 2, "layer1": 4, "layer2": 8, "layer3": 16, "layer4": 32}


def keep_resolution(layer: nn.Sequential) -> None:
    """Make a ResNet stage keep its input's resolution: its first block's stride-2 convolutions
    (the main path's and the shortcut's) become stride 1. Weights are unchanged, so one checkpoint
    loads at either stride; no dilation is added (BasicBlock does not support it in torchvision)."""
    for module in layer[0].modules():
        if isinstance(module, nn.Conv2d) and module.stride == (2, 2):
            module.stride = (1, 1)


class ResNetBackbone(nn.Module):
    """A torchvision ResNet cut after ``last_layer`` that returns the requested feature taps.

    ``conv1`` is the output of conv1+bn1+relu (before max-pool), as D3S/JCAT use it.
    ``layer3_stride=1`` keeps layer2's resolution in layer3 (stride 8, not 16). Layers
    past the deepest tap (kept when ``last_layer`` asks, e.g. to load a full release) never run.
    """

    def __init__(
        self,
        name: str = "resnet50",
        output_layers: Sequence[str] = ("layer3",),
        last_layer: str | None = None,
        frozen_bn: bool = True,
        frozen_layers: Sequence[str] = ("conv1", "layer1"),
        weights: str | None = None,
        layer3_stride: int = 2,
    ) -> None:
        super().__init__()
        if layer3_stride not in (1, 2):
            raise ValueError(f"layer3_stride must be 1 or 2, got {layer3_stride}")
        if name not in OUT_CHANNELS:
            raise ValueError(f"unknown ResNet '{name}'; choose one of {sorted(OUT_CHANNELS)}")
        unknown = [layer for layer in output_layers if layer not in LAYER_ORDER]
        if unknown:
            raise ValueError(f"unknown output layers {unknown}; choose from {LAYER_ORDER}")
        self.name = name
        self.output_layers = tuple(output_layers)
        self.deepest_tap = max(self.output_layers, key=LAYER_ORDER.index)
        last_layer = last_layer or self.deepest_tap  # deeper layers may be held (for weights) but never run
        self.last_layer = last_layer
        norm_layer = FrozenBatchNorm2d if frozen_bn else nn.BatchNorm2d
        full = getattr(torchvision.models, name)(weights=None, norm_layer=norm_layer)
        self.conv1, self.bn1, self.relu, self.maxpool = full.conv1, full.bn1, full.relu, full.maxpool
        for layer in LAYER_ORDER[1 : LAYER_ORDER.index(last_layer) + 1]:
            setattr(self, layer, getattr(full, layer))
        self.layer3_stride = layer3_stride
        if layer3_stride == 1 and hasattr(self, "layer3"):
            keep_resolution(self.layer3)
        path = weights_file(weights, lambda: resnet_imagenet_url(name))
        if path is not None:
            self.load_local_weights(path)
        elif weights is None:
            logger.warning("%s backbone starts from random init (model.backbone_weights not set; "
                           "'imagenet' loads torchvision's weights)", name)
        for layer in frozen_layers:
            modules = [self.conv1, self.bn1] if layer == "conv1" else [getattr(self, layer)]
            for module in modules:
                for p in module.parameters():
                    p.requires_grad_(False)

    @property
    def out_channels(self) -> dict[str, int]:
        """Channels of each output tap."""
        return {layer: OUT_CHANNELS[self.name][layer] for layer in self.output_layers}

    @property
    def strides(self) -> dict[str, int]:
        """Stride of each output tap relative to the input image."""
        strides = dict(STRIDES)
        if self.layer3_stride == 1:
            strides.update(layer3=8, layer4=16)
        return {layer: strides[layer] for layer in self.output_layers}

    def load_local_weights(self, path: str | Path) -> list[str]:
        """Load a torchvision-style state_dict file (weights only), ignoring layers we cut; missing
        or mis-shaped built layers are an error naming the file. Returns the keys loaded."""
        path = Path(path)
        return load_matching(self, load_state_dict(path), path, self.name)

    def forward(self, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
        """Features at each requested layer, in LAYER_ORDER."""
        out: OrderedDict[str, torch.Tensor] = OrderedDict()
        x = self.relu(self.bn1(self.conv1(x)))
        if "conv1" in self.output_layers:
            out["conv1"] = x
        x = self.maxpool(x)
        for layer in LAYER_ORDER[1 : LAYER_ORDER.index(self.deepest_tap) + 1]:
            x = getattr(self, layer)(x)
            if layer in self.output_layers:
                out[layer] = x
        return out


@BACKBONES.register("resnet")
def resnet_backbone(**kwargs) -> ResNetBackbone:
    """Registry entry: ``BACKBONES.build('resnet', name='resnet50', ...)``."""
    return ResNetBackbone(**kwargs)
