"""Z' for the score head: the target feature taken from f at the predicted box (bit.md 2.6).

``BoxPool`` (STARK ``cls_head`` compatible) averages f inside the box into one vector;
``RoITokenPool`` RoI-aligns f to k×k tokens that a learned score token attends to.
Both return (B, C); the 3-layer MLP ``cls_head`` maps that to a logit.
"""
from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import roi_align

from ltr.models.layers import CrossAttentionLayer


def roi_features(f: torch.Tensor, boxes_xyxy: torch.Tensor, size: int) -> torch.Tensor:
    """RoIAlign of f (B, C, H, W) in normalised xyxy boxes (B, 4) -> (B, C, size, size).

    Cell j sits at normalised coordinate j/H as in the corner head (``aligned=False``). A non-finite
    box (from non-finite features) is pooled as the empty box at 0: torchvision's ``roi_align``
    crashes the process on NaN coordinates, and the tracker rejects such a frame anyway.
    """
    index = torch.arange(len(boxes_xyxy), device=f.device, dtype=f.dtype)[:, None]
    boxes_xyxy = boxes_xyxy.to(f.dtype)
    boxes_xyxy = torch.where(torch.isfinite(boxes_xyxy), boxes_xyxy, torch.zeros_like(boxes_xyxy))
    rois = torch.cat((index, boxes_xyxy), dim=1)
    return roi_align(f, rois, output_size=size, spatial_scale=float(f.shape[-1]), sampling_ratio=2, aligned=False)


class BoxPool(nn.Module):
    """Average of f inside the box (RoIAlign bins, then mean): a (B, C) vector. No parameters."""

    def __init__(self, size: int = 4) -> None:
        super().__init__()
        self.size = size

    def forward(self, f: torch.Tensor, boxes_xyxy: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W), (B, 4) -> (B, C)."""
        return roi_features(f, boxes_xyxy, self.size).mean(dim=(2, 3))


class RoITokenPool(nn.Module):
    """A learned score token cross-attends to the k×k RoI tokens of f (with learned positions)
    and, when given, to the initial template's tokens too (MixFormer's SPM), so the score can
    compare the candidate with the target it should be."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, dropout: float, size: int = 4) -> None:
        super().__init__()
        self.size = size
        self.token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos = nn.Parameter(torch.zeros(size * size, 1, d_model))
        nn.init.trunc_normal_(self.token, std=0.02)
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.attn = CrossAttentionLayer(d_model, nhead, dim_feedforward, dropout)

    def forward(self, f: torch.Tensor, boxes_xyxy: torch.Tensor,
                template: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """(B, C, H, W), (B, 4) -> (B, C). ``template``: initial-template (tokens (Nz, B, C),
        positions (Nz, B, C), padding mask (B, Nz)) appended to the attended memory."""
        roi = roi_features(f, boxes_xyxy, self.size).flatten(2).permute(2, 0, 1)  # k², B, C
        batch = roi.shape[1]
        query = self.token.expand(-1, batch, -1)
        memory, pos = roi, self.pos.expand(-1, batch, -1)
        padding = None
        if template is not None:
            tokens, template_pos, template_mask = template
            memory, pos = torch.cat((roi, tokens)), torch.cat((pos, template_pos))
            padding = torch.cat((template_mask.new_zeros(batch, roi.shape[0]), template_mask), dim=1)
        return self.attn(query, memory, memory_pos=pos, memory_padding_mask=padding)[0]
