"""Attention branch: JCAT's post-norm cross-attention block and the three-block fusion.

Parameter names (``fcq``/``fck``/``fcv``/``fco``, ``linear1``/``linear2``, ``norm1``/``norm2``,
``cross_att1..3``) are those of the released checkpoint. No positional encoding is used.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, dropout_p: float = 0.0) -> torch.Tensor:
    """softmax(q·kᵀ·scale)·v over the last two dims of (B, heads, N, d) tensors.

    PyTorch's fused kernel, except in bf16 on a CPU, where its flash kernel is no faster than
    in fp32 and two bf16 matmuls around the softmax take about half its time (a 576×576, 8-head
    JCAT block on 2 AVX512-BF16 cores: 2.7 vs 4.9 ms).
    """
    if q.dtype == torch.bfloat16 and q.device.type == "cpu" and dropout_p == 0.0:
        return torch.matmul(torch.matmul(q * scale, k.transpose(-1, -2)).softmax(dim=-1), v)
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, scale=scale)


class CrossAttentionBlock(nn.Module):
    """Multi-head cross-attention (queries from one map, keys = values from another) + FFN, post-norm."""

    def __init__(self, d_model: int = 64, hidden: int = 512, nheads: int = 8, dropout: float = 0.1) -> None:
        super().__init__()
        if hidden % nheads:
            raise ValueError(f"attention hidden size {hidden} is not divisible by {nheads} heads")
        self.nheads = nheads
        self.head_dim = hidden // nheads
        self.attn_dropout = dropout
        self.fcq = nn.Linear(d_model, hidden)
        self.fck = nn.Linear(d_model, hidden)
        self.fcv = nn.Linear(d_model, hidden)
        self.fco = nn.Linear(hidden, d_model)
        self.linear1 = nn.Linear(d_model, hidden)
        self.linear2 = nn.Linear(hidden, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, heads·d) -> (B, heads, N, d); head h owns channels [h·d, (h+1)·d)."""
        return x.unflatten(-1, (self.nheads, self.head_dim)).transpose(1, 2)

    def forward(self, query: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """``query`` (B, Nq, C) attends to ``context`` (B, Nk, C); returns (B, Nq, C)."""
        q, k, v = self._heads(self.fcq(query)), self._heads(self.fck(context)), self._heads(self.fcv(context))
        attn = attend(q, k, v, self.head_dim ** -0.5, self.attn_dropout if self.training else 0.0)
        out = self.fco(attn.transpose(1, 2).flatten(2))
        x = self.norm1(query + self.dropout1(out))
        return self.norm2(x + self.dropout3(self.linear2(self.dropout2(F.relu(self.linear1(x))))))


class AttentionFusion(nn.Module):
    """Semantic features of the test map: train and test attend to each other, then fuse.

    f11 = att1(q=train, kv=test); f21 = att2(q=test, kv=train); f22 = att3(q=f21, kv=f11).
    """

    def __init__(self, d_model: int = 64, hidden: int = 512, nheads: int = 8, dropout: float = 0.1) -> None:
        super().__init__()
        self.cross_att1 = CrossAttentionBlock(d_model, hidden, nheads, dropout)
        self.cross_att2 = CrossAttentionBlock(d_model, hidden, nheads, dropout)
        self.cross_att3 = CrossAttentionBlock(d_model, hidden, nheads, dropout)

    def forward(self, train: torch.Tensor, test: torch.Tensor) -> torch.Tensor:
        """``train``, ``test`` (B, C, H, W) -> fused map (B, C, H, W) on the test grid."""
        return self.fuse_tokens(tokens(train), tokens(test), test.shape)

    def fuse_tokens(self, f1: torch.Tensor, f2: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        """The same from train and test :func:`tokens`; ``shape`` is the test map's (B, C, H, W)."""
        f11 = self.cross_att1(f1, f2)
        f21 = self.cross_att2(f2, f1)
        f22 = self.cross_att3(f21, f11)
        return f22.transpose(1, 2).reshape(shape)


def tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) map -> (B, H·W, C) tokens in row-major order."""
    return x.flatten(2).transpose(1, 2)
