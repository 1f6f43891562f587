"""Template correlation: an explicit template-matching input for the box head (not in BIT).

A small BIT trained briefly learns to box the salient object near the search crop's centre and
ignores its template (``benchmarks/bit_template_use.py``): the encoder's attention from search to
template tokens never becomes useful in a CPU-sized run. This block hands the head the match
directly, as the pixel-wise correlation of Alpha-Refine and PrDiMP does: the cosine similarity of
every search feature with each feature of the initial template's target region (the central half
of the template crop, which is twice the box), projected to ``d_model`` and added to f.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def target_region(template: torch.Tensor) -> torch.Tensor:
    """The central half of a (B, C, h, w) template map, where a crop twice the box puts the target."""
    h, w = template.shape[-2:]
    return template[..., h // 4: h - h // 4, w // 4: w - w // 4]


class TemplateCorrelation(nn.Module):
    """(B, C, h, w) template map and (B, C, H, W) search map -> (B, d_model, H, W) match features."""

    def __init__(self, template_side: int, d_model: int) -> None:
        super().__init__()
        region = template_side - 2 * (template_side // 4)
        self.proj = nn.Sequential(nn.Conv2d(region * region, d_model, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(d_model, d_model, 1))

    def forward(self, template: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        """The projected :func:`similarity` maps."""
        return self.proj(similarity(template, search))


def similarity(template: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
    """(B, K, H, W): cosine similarity of every search position with each of the K positions of
    the template's :func:`target_region` (row-major)."""
    kernel = F.normalize(target_region(template).flatten(2), dim=1)  # B, C, K
    return torch.einsum("bck,bchw->bkhw", kernel, F.normalize(search, dim=1))
