"""Post-norm attention + FFN layers in STARK/DETR layout (sequence-first tensors: (N, B, C)).

Parameter names follow STARK (``self_attn.in_proj_weight``, ``linear1``, ``norm1`` ...), so its
encoder/decoder weights load by prefix. Position embeddings are added to queries and keys only;
padding masks (True = padded) are passed to attention as ``key_padding_mask``.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


def _with_pos(x: torch.Tensor, pos: torch.Tensor | None) -> torch.Tensor:
    return x if pos is None else x + pos


class _FeedForward(nn.Module):
    """The FFN half of a post-norm layer: ``norm(x + W2·drop(relu(W1·x)))`` (names as STARK)."""

    def __init__(self, d_model: int, dim_feedforward: int, dropout: float, norm_name: str) -> None:
        super().__init__()
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.dropout2 = nn.Dropout(dropout)
        self._norm_name = norm_name
        setattr(self, norm_name, nn.LayerNorm(d_model))

    def ffn(self, x: torch.Tensor) -> torch.Tensor:
        """Residual FFN followed by the layer's last LayerNorm."""
        y = self.linear2(self.dropout(torch.relu(self.linear1(x))))
        return getattr(self, self._norm_name)(x + self.dropout2(y))


class TransformerEncoderLayer(_FeedForward):
    """Post-norm self-attention layer: ``x = LN(x + MHA(x+p, x+p, x)); x = LN(x + FFN(x))``."""

    def __init__(self, d_model: int = 256, nhead: int = 8, dim_feedforward: int = 2048,
                 dropout: float = 0.1) -> None:
        super().__init__(d_model, dim_feedforward, dropout, norm_name="norm2")
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)

    def attend(self, src: torch.Tensor, pos: torch.Tensor | None,
               key_padding_mask: torch.Tensor | None) -> torch.Tensor:
        """The attention term added to the residual stream (subclasses may add more terms)."""
        q = k = _with_pos(src, pos)
        return self.self_attn(q, k, src, key_padding_mask=key_padding_mask, need_weights=False)[0]

    def forward(self, src: torch.Tensor, pos: torch.Tensor | None = None,
                key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``src``, ``pos``: (N, B, C); ``key_padding_mask``: (B, N) bool. Returns (N, B, C)."""
        attn = self.attend(src, pos, key_padding_mask)
        return self.ffn(self.norm1(src + self.dropout1(attn)))


class CrossAttentionLayer(_FeedForward):
    """Post-norm cross-attention layer: queries attend to a separate key/value sequence, then FFN."""

    def __init__(self, d_model: int = 256, nhead: int = 8, dim_feedforward: int = 2048,
                 dropout: float = 0.1) -> None:
        super().__init__(d_model, dim_feedforward, dropout, norm_name="norm2")
        self.cross_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)

    def forward(self, query: torch.Tensor, memory: torch.Tensor, query_pos: torch.Tensor | None = None,
                memory_pos: torch.Tensor | None = None,
                memory_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``query``: (Nq, B, C); ``memory``: (Nk, B, C); mask (B, Nk), True = padded."""
        attn = self.cross_attn(_with_pos(query, query_pos), _with_pos(memory, memory_pos), memory,
                               key_padding_mask=memory_padding_mask, need_weights=False)[0]
        return self.ffn(self.norm1(query + self.dropout1(attn)))


class TransformerEncoder(nn.Module):
    """A stack of encoder layers without a final norm that returns every layer's output."""

    def __init__(self, layer: TransformerEncoderLayer, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(num_layers))

    def forward(self, src: torch.Tensor, pos: torch.Tensor | None = None,
                key_padding_mask: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Outputs of layers 1..L, each (N, B, C)."""
        outputs = []
        for layer in self.layers:
            src = layer(src, pos, key_padding_mask)
            outputs.append(src)
        return outputs


class TransformerDecoderLayer(_FeedForward):
    """DETR/STARK post-norm decoder layer: self-attention over queries, cross-attention, FFN."""

    def __init__(self, d_model: int = 256, nhead: int = 8, dim_feedforward: int = 2048,
                 dropout: float = 0.1) -> None:
        super().__init__(d_model, dim_feedforward, dropout, norm_name="norm3")
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.multihead_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2_attn = nn.Dropout(dropout)

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor, query_pos: torch.Tensor,
                memory_pos: torch.Tensor | None = None,
                memory_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``tgt``/``query_pos``: (Nq, B, C); ``memory``: (Nk, B, C). Returns (Nq, B, C)."""
        q = k = tgt + query_pos
        tgt = self.norm1(tgt + self.dropout1(self.self_attn(q, k, tgt, need_weights=False)[0]))
        attn = self.multihead_attn(tgt + query_pos, _with_pos(memory, memory_pos), memory,
                                   key_padding_mask=memory_padding_mask, need_weights=False)[0]
        return self.ffn(self.norm2(tgt + self.dropout2_attn(attn)))


class TransformerDecoder(nn.Module):
    """STARK's decoder: decoder layers plus a final LayerNorm (``layers.*``, ``norm.*``)."""

    def __init__(self, layer: TransformerDecoderLayer, num_layers: int, d_model: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor, query_pos: torch.Tensor,
                memory_pos: torch.Tensor | None = None,
                memory_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Output of the last layer after the final norm, (Nq, B, C)."""
        for layer in self.layers:
            tgt = layer(tgt, memory, query_pos, memory_pos, memory_padding_mask)
        return self.norm(tgt)


class ChannelSelfAttention(nn.Module):
    """DANet-style channel attention over tokens: ``γ · (softmax(XᵀX/√N) Xᵀ)ᵀ`` with γ starting at 0.

    Padded tokens are zeroed so they do not enter the C×C affinity.
    """

    def __init__(self) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: (N, B, C); returns the attention term (N, B, C) to add to a residual stream."""
        if key_padding_mask is not None:
            x = x.masked_fill(key_padding_mask.transpose(0, 1)[..., None], 0.0)
        xb = x.permute(1, 2, 0)  # B, C, N
        affinity = torch.softmax(xb @ xb.transpose(1, 2) / xb.shape[-1] ** 0.5, dim=-1)
        return self.gamma * (affinity @ xb).permute(2, 0, 1)
