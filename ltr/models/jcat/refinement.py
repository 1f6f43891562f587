"""One coarse-to-fine refinement stage of the JCAT decoder.

out = post(relu?(up2x(skip_convs(skip) + out))): the skip features are projected to the
coarse map's channels, added, upsampled ×2 and refined.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ltr.models.jcat.blocks import upsample2x


def refine_stage(
    coarse: torch.Tensor,
    skip: torch.Tensor,
    skip_convs: Sequence[nn.Module],
    post_convs: Sequence[nn.Module],
    relu: bool,
) -> torch.Tensor:
    """Fuse ``skip`` (same grid as ``coarse``) into ``coarse`` and return the refined map at 2× size."""
    for layer in skip_convs:
        skip = layer(skip)
    x = upsample2x(skip + coarse)
    if relu:
        x = F.relu(x)
    for layer in post_convs:
        x = layer(x)
    return x
