"""Correlation branch arithmetic: mask-weighted cosine similarity with top-k pooling (D3S/JCAT).

Every test position is compared with every train (reference) position; the similarities are
weighted by the reference mask (positive) or its complement (negative) and the top-k of each
are averaged. A memory bank of extra samples merges by element-wise max.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

Maps = tuple[torch.Tensor, torch.Tensor]


def sample_keys(train: torch.Tensor, train_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What the test grid is compared with, from one sample alone: its L2-normalised position
    features flattened (B, C, n) and its mask at their grid (B, 1, 1, n), resized by nearest
    neighbour from (B, 1, Hm, Wm). Computed once per reference or memory sample in tracking."""
    keys = F.normalize(train, p=2, dim=1).flatten(2)
    weight = F.interpolate(train_mask, size=train.shape[-2:]).flatten(1)[:, None, None, :]
    return keys, weight


def similarity_to(test: torch.Tensor, keys: torch.Tensor, weight: torch.Tensor, topk: int) -> Maps:
    """Positive and negative maps (B, H, W) of the test grid against a sample's :func:`sample_keys`."""
    positions = keys.shape[-1]
    if topk > positions:
        raise ValueError(f"topk={topk} exceeds the {positions} reference positions; use a larger crop or smaller topk")
    sim = torch.einsum("bchw,bcn->bhwn", F.normalize(test, p=2, dim=1), keys)
    pos = torch.topk(sim * weight, topk, dim=-1).values.mean(dim=-1)
    neg = torch.topk(sim * (1 - weight), topk, dim=-1).values.mean(dim=-1)
    return pos, neg


def similarity_maps(test: torch.Tensor, train: torch.Tensor, train_mask: torch.Tensor, topk: int) -> Maps:
    """Positive and negative maps (B, H, W) of the test grid against one reference sample.

    ``test`` (B, C, H, W) and ``train`` (B, C, h, w) are position features; ``train_mask``
    (B, 1, Hm, Wm) is resized to (h, w) by nearest neighbour before weighting.
    """
    return similarity_to(test, *sample_keys(train, train_mask), topk)


def fg_probability(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """Softmax over (pos, neg) per position, the foreground entry."""
    return F.softmax(torch.stack((pos, neg), dim=-1), dim=-1)[..., 0]


def merge_memory(reference: Maps, stored: Sequence[Maps]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(pos, neg, fg probability) from the reference maps and those of the memory-bank samples.

    pos/neg are element-wise maxima over all samples; the fg probability is the larger of the
    merged maps' softmax and the reference's own, so stored samples can only add evidence.
    """
    ref_pos, ref_neg = reference
    ref_fg = fg_probability(ref_pos, ref_neg)
    if not stored:
        return ref_pos, ref_neg, ref_fg
    pos = torch.stack([ref_pos, *(p for p, _ in stored)]).amax(dim=0)
    neg = torch.stack([ref_neg, *(n for _, n in stored)]).amax(dim=0)
    return pos, neg, torch.maximum(fg_probability(pos, neg), ref_fg)
