"""Conv blocks of the JCAT head and its weight init.

``conv`` / ``conv_no_relu`` are ``nn.Sequential`` so their keys are ``.0.*`` (conv) and
``.1.*`` (BatchNorm), as in the released state_dict.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_no_relu(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Sequential:
    """Conv2d (same padding, bias) + BatchNorm2d."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=True),
        nn.BatchNorm2d(out_channels),
    )


def conv(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Sequential:
    """Conv2d (same padding, bias) + BatchNorm2d + ReLU."""
    return nn.Sequential(*conv_no_relu(in_channels, out_channels, kernel_size), nn.ReLU(inplace=True))


def kaiming_init(module: nn.Module) -> None:
    """Kaiming-normal (fan_in) weights and zero biases for every conv and linear layer, as JCAT."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """Bilinear ×2 upsampling (align_corners=False), the only resampling of the refinement path.

    Maps of under 16 channels are resampled in NCHW order (the same values): the channels_last
    kernel vectorises over channels and took 2.3 ms for the head's 4-channel 192² bf16 map on 2
    CPU cores, against 0.9 ms (the whole refinement 15.1 -> 13.9 ms).
    """
    if x.shape[1] < 16:
        x = x.contiguous()
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
