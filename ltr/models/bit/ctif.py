"""CTIF: bidirectional interaction of CNN and transformer search features, then fusion (bit.md 2.4).

Direction (a): transformer search tokens T query the CNN tokens C (global tokens pick up local
detail). Direction (b): C queries T, or all tokens incl. templates (local tokens pick up global,
target-aware context). The two results are fused into the head input f: (B, C, H, W).
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ltr.models.layers import CrossAttentionLayer, conv_bn_relu

Directions = Literal["both", "a", "b", "none"]
FusionMode = Literal["concat_conv", "add", "conv3x3", "gate"]


def tokens_to_map(tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(H·W, B, C) sequence -> (B, C, H, W) map."""
    _, b, c = tokens.shape
    return tokens.permute(1, 2, 0).reshape(b, c, height, width)


class Fusion(nn.Module):
    """Merge the two direction outputs A and G, both (B, C, H, W), into f."""

    def __init__(self, mode: FusionMode, d_model: int) -> None:
        super().__init__()
        self.mode = mode
        if mode == "concat_conv":
            self.conv = conv_bn_relu(2 * d_model, d_model, kernel_size=1)
        elif mode == "conv3x3":
            self.conv = conv_bn_relu(2 * d_model, d_model, kernel_size=3)
        elif mode == "gate":
            self.conv = nn.Conv2d(2 * d_model, d_model, kernel_size=1)
        elif mode != "add":
            raise ValueError(f"unknown fusion '{mode}'; choose concat_conv, add, conv3x3 or gate")

    def forward(self, a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """f = conv(concat), A + G, or sigmoid-gated mix g·A + (1-g)·G."""
        if self.mode == "add":
            return a + g
        both = torch.cat((a, g), dim=1)
        if self.mode == "gate":
            gate = torch.sigmoid(self.conv(both))
            return gate * a + (1 - gate) * g
        return self.conv(both)


class CTIF(nn.Module):
    """Cross-attention in one or both directions between CNN and transformer search features."""

    def __init__(self, d_model: int = 256, nhead: int = 8, dim_feedforward: int = 2048, dropout: float = 0.1,
                 directions: Directions = "both", keys: Literal["search", "all"] = "search",
                 fusion: FusionMode = "concat_conv", cnn_channels: int | None = None) -> None:
        super().__init__()
        if directions not in ("both", "a", "b", "none"):
            raise ValueError(f"unknown CTIF directions '{directions}'; choose both, a, b or none")
        self.directions = directions
        self.keys = keys
        uses_cnn = directions != "none"
        self.cnn_proj = nn.Conv2d(cnn_channels, d_model, 1) if cnn_channels and uses_cnn else None
        self.t2c = CrossAttentionLayer(d_model, nhead, dim_feedforward, dropout) if directions in ("both", "a") else None
        self.c2t = CrossAttentionLayer(d_model, nhead, dim_feedforward, dropout) if directions in ("both", "b") else None
        self.fusion = Fusion(fusion, d_model) if directions == "both" else None

    def forward(self, tokens: torch.Tensor, pos: torch.Tensor, mask: torch.Tensor,
                cnn_search: torch.Tensor) -> torch.Tensor:
        """``tokens``/``pos``: all (N, B, C) aggregated tokens, search last; ``mask``: (B, N);
        ``cnn_search``: (B, C_cnn, H, W) CNN search map. Returns f: (B, C, H, W)."""
        h, w = cnn_search.shape[-2:]
        nx = h * w
        t, p, m = tokens[-nx:], pos[-nx:], mask[:, -nx:]
        if self.directions == "none":
            return tokens_to_map(t, h, w)
        cnn = self.cnn_proj(cnn_search) if self.cnn_proj is not None else cnn_search
        c = cnn.flatten(2).permute(2, 0, 1)
        outputs = []
        if self.t2c is not None:
            outputs.append(self.t2c(t, c, query_pos=p, memory_pos=p, memory_padding_mask=m))
        if self.c2t is not None:
            kv, kv_pos, kv_mask = (tokens, pos, mask) if self.keys == "all" else (t, p, m)
            outputs.append(self.c2t(c, kv, query_pos=p, memory_pos=kv_pos, memory_padding_mask=kv_mask))
        maps = [tokens_to_map(o, h, w) for o in outputs]
        return self.fusion(*maps) if self.fusion is not None else maps[0]
