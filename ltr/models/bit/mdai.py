"""MDAI: multi-level aggregation of transformer outputs (bit.md 2.3, design A).

DSA refines each chosen level with self-attention (optionally "dual": plus channel attention);
DCA merges the refined levels into one (N, B, C) sequence, either by letting the deepest level
cross-attend to the shallower ones or by a learned softmax weighting plus self-attention.
"""
from __future__ import annotations

from typing import Literal, Sequence

import torch
from torch import nn

from ltr.models.layers import ChannelSelfAttention, CrossAttentionLayer, TransformerEncoderLayer


class DSABlock(TransformerEncoderLayer):
    """Post-norm self-attention + FFN over one level; ``dual`` adds DANet-style channel attention."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, dropout: float, dual: bool = False) -> None:
        super().__init__(d_model, nhead, dim_feedforward, dropout)
        self.channel_attn = ChannelSelfAttention() if dual else None

    def attend(self, src: torch.Tensor, pos: torch.Tensor | None,
               key_padding_mask: torch.Tensor | None) -> torch.Tensor:
        """Spatial attention, plus channel attention when dual."""
        out = super().attend(src, pos, key_padding_mask)
        if self.channel_attn is not None:
            out = out + self.channel_attn(src, key_padding_mask)
        return out


class DCACrossAttention(nn.Module):
    """The deepest level queries the concatenated shallower levels (keys/values: (L-1)·N tokens)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, dropout: float) -> None:
        super().__init__()
        self.cross = CrossAttentionLayer(d_model, nhead, dim_feedforward, dropout)

    def forward(self, levels: Sequence[torch.Tensor], pos: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``levels``: L refined (N, B, C) sequences; returns the aggregated (N, B, C)."""
        shallow = list(levels[:-1])
        memory = torch.cat(shallow, dim=0)
        return self.cross(levels[-1], memory, query_pos=pos, memory_pos=pos.repeat(len(shallow), 1, 1),
                          memory_padding_mask=mask.repeat(1, len(shallow)))


class DCAWeighted(nn.Module):
    """Cheaper DCA: softmax-weighted sum of the levels, then one self-attention + FFN block."""

    def __init__(self, num_levels: int, d_model: int, nhead: int, dim_feedforward: int, dropout: float) -> None:
        super().__init__()
        self.level_weights = nn.Parameter(torch.zeros(num_levels))
        self.attn = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout)

    def forward(self, levels: Sequence[torch.Tensor], pos: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Weighted sum over levels, refined by self-attention; (N, B, C)."""
        weights = torch.softmax(self.level_weights, dim=0)
        mixed = sum(w * level for w, level in zip(weights, levels))
        return self.attn(mixed, pos, mask)


class MDAI(nn.Module):
    """DSA per level (shared or per-level weights) followed by DCA across levels."""

    def __init__(self, num_levels: int, d_model: int = 256, nhead: int = 8, dim_feedforward: int = 2048,
                 dropout: float = 0.1, dsa_shared: bool = False, dsa_dual: bool = False,
                 dca_mode: Literal["cross_attention", "weighted"] = "cross_attention") -> None:
        super().__init__()
        if num_levels < 2:
            raise ValueError(f"MDAI aggregates at least 2 levels, got {num_levels}")
        self.num_levels = num_levels
        self.dsa = nn.ModuleList(DSABlock(d_model, nhead, dim_feedforward, dropout, dsa_dual)
                                 for _ in range(1 if dsa_shared else num_levels))
        if dca_mode == "cross_attention":
            self.dca = DCACrossAttention(d_model, nhead, dim_feedforward, dropout)
        elif dca_mode == "weighted":
            self.dca = DCAWeighted(num_levels, d_model, nhead, dim_feedforward, dropout)
        else:
            raise ValueError(f"unknown dca_mode '{dca_mode}'; choose 'cross_attention' or 'weighted'")

    def refine(self, levels: Sequence[torch.Tensor], pos: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        """DSA on each level: the refined (N, B, C) sequences E4', E5', E6'."""
        if len(levels) != self.num_levels:
            raise ValueError(f"MDAI built for {self.num_levels} levels, got {len(levels)}")
        blocks = list(self.dsa) if len(self.dsa) > 1 else [self.dsa[0]] * len(levels)
        return [block(level, pos, mask) for block, level in zip(blocks, levels)]

    def forward(self, levels: Sequence[torch.Tensor], pos: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``levels``: L (N, B, C) transformer outputs; ``pos``: (N, B, C); ``mask``: (B, N)."""
        return self.dca(self.refine(levels, pos, mask), pos, mask)
