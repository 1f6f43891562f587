"""The JCAT segmentation head (``segm_predictor``): correlation + attention branches, fused and refined.

Layers are attributes of this module under the released names (``segment0``, ``mixer1``,
``f2_0``, ``post0_1``, ...) so the release state_dict loads by key; the arithmetic of each
branch lives in its own module (``correlation``, ``attention``, ``refinement``).

Everything the head derives from the reference or a memory sample alone (position keys, mask
weights, attention tokens) can be prepared once (:meth:`JcatHead.prepare_reference`,
:meth:`JcatHead.prepare_sample`) and reused on every frame (:meth:`JcatHead.forward_prepared`);
``forward`` prepares and runs in one call, with the same arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ltr.models.jcat.attention import AttentionFusion, tokens
from ltr.models.jcat.blocks import conv, conv_no_relu, kaiming_init
from ltr.models.jcat.correlation import merge_memory, sample_keys, similarity_to
from ltr.models.jcat.refinement import refine_stage

Features = Mapping[str, torch.Tensor]
MemorySample = tuple[Features, torch.Tensor]

INTER_DIMS = (4, 16, 32, 64)  # decoder widths at conv1, layer1, layer2, layer3 resolution
SEGM_DIMS = (64, 64)  # position-feature convs before the cosine similarity
ATTENTION_HIDDEN = 512
ATTENTION_HEADS = 8
MIXER_INPUTS = 3  # fg probability, pos map, distance map


@dataclass
class PreparedSample:
    """A reference or memory sample reduced to what the correlation branch compares the test crop with."""

    keys: torch.Tensor  # (B, C, n) L2-normalised position features
    weight: torch.Tensor  # (B, 1, 1, n) the sample's mask at the layer3 grid


@dataclass
class PreparedReference:
    """The reference sample's correlation keys and attention tokens."""

    sample: PreparedSample
    tokens: torch.Tensor  # (B, n, d) fusion-conv features of the reference, as attention tokens


class JcatHead(nn.Module):
    """Predicts 2-channel logits (target, background) at input resolution from backbone taps."""

    def __init__(self, input_dims: Sequence[int], topk: int = 3, dropout: float = 0.1) -> None:
        """``input_dims``: channels of the conv1, layer1, layer2, layer3 taps."""
        super().__init__()
        if len(input_dims) != 4:
            raise ValueError(f"input_dims needs 4 channel counts (conv1, layer1, layer2, layer3), got {input_dims}")
        in0, in1, in2, in3 = input_dims
        d0, d1, d2, d3 = INTER_DIMS
        self.topk = topk
        self.fusion = AttentionFusion(d3, ATTENTION_HIDDEN, ATTENTION_HEADS, dropout)
        self.segment0 = conv(in3, SEGM_DIMS[0], kernel_size=1)
        self.segment1 = conv_no_relu(SEGM_DIMS[0], SEGM_DIMS[1])
        self.fusion0 = conv(in3, d3, kernel_size=1)
        self.fusion1 = conv_no_relu(d3, d3)
        self.mixer0 = conv(MIXER_INPUTS, d2)
        self.mixer1 = conv_no_relu(d2, d3)
        self.s3_0, self.s3_1 = conv(d3, d2), conv_no_relu(d2, d2)
        self.f3_0, self.f3_1 = conv(d3, d3), conv_no_relu(d3, d3)
        self.f2_0, self.f2_1 = conv(in2, d3), conv_no_relu(d3, d2)
        self.f1_0, self.f1_1 = conv(in1, d2), conv_no_relu(d2, d1)
        self.f0_0, self.f0_1 = conv(in0, d1), conv_no_relu(d1, d0)
        self.post2_0, self.post2_1 = conv(d2, d1), conv_no_relu(d1, d1)
        self.post1_0, self.post1_1 = conv(d1, d0), conv_no_relu(d0, d0)
        self.post0_0, self.post0_1 = conv(d0, 2), conv_no_relu(2, 2)
        kaiming_init(self)

    def position_features(self, layer3: torch.Tensor) -> torch.Tensor:
        """Features compared by cosine similarity in the correlation branch."""
        return self.segment1(self.segment0(layer3))

    def prepare_sample(self, layer3: torch.Tensor, mask: torch.Tensor) -> PreparedSample:
        """A sample's (layer3 (B, C, h, w), mask (B, 1, H, W)) correlation keys."""
        return PreparedSample(*sample_keys(self.position_features(layer3), mask))

    def attention_tokens(self, layer3: torch.Tensor) -> torch.Tensor:
        """Reference layer3 features (B, C, h, w) -> the attention branch's tokens (B, h·w, d)."""
        return tokens(self.fusion1(self.fusion0(layer3)))

    def prepare_reference(self, layer3: torch.Tensor, mask: torch.Tensor) -> PreparedReference:
        """The reference's correlation keys and attention tokens."""
        return PreparedReference(self.prepare_sample(layer3, mask), self.attention_tokens(layer3))

    def correlation(
        self,
        test_layer3: torch.Tensor,
        reference: PreparedSample,
        dist_map: torch.Tensor,
        memory: Sequence[PreparedSample] = (),
    ) -> torch.Tensor:
        """Correlation branch -> (B, 64, h, w) against the reference and the memory-bank samples."""
        test = self.position_features(test_layer3)
        ref_maps = similarity_to(test, reference.keys, reference.weight, self.topk)
        stored = [similarity_to(test, m.keys, m.weight, self.topk) for m in memory]
        pos, neg, fg = merge_memory(ref_maps, stored)
        dist = F.interpolate(dist_map, size=test.shape[-2:])
        return self.mixer1(self.mixer0(torch.cat((fg.unsqueeze(1), pos.unsqueeze(1), dist), dim=1)))

    def attention(self, train_layer3: torch.Tensor, test_layer3: torch.Tensor) -> torch.Tensor:
        """Attention branch -> (B, 64, h, w) semantic features on the test grid."""
        return self.attention_prepared(self.attention_tokens(train_layer3), test_layer3)

    def attention_prepared(self, reference_tokens: torch.Tensor, test_layer3: torch.Tensor) -> torch.Tensor:
        """:meth:`attention` with the reference's :meth:`attention_tokens` given."""
        test = self.fusion1(self.fusion0(test_layer3))
        return self.fusion.fuse_tokens(reference_tokens, tokens(test), test.shape)

    def refine(self, correlation: torch.Tensor, semantic: torch.Tensor, test_feats: Features) -> torch.Tensor:
        """Fuse both branches and refine with the test taps up to 16× the layer3 grid."""
        out = refine_stage(correlation, semantic, (self.f3_0, self.f3_1), (self.s3_0, self.s3_1), relu=False)
        out = refine_stage(out, test_feats["layer2"], (self.f2_0, self.f2_1), (self.post2_0, self.post2_1), relu=True)
        out = refine_stage(out, test_feats["layer1"], (self.f1_0, self.f1_1), (self.post1_0, self.post1_1), relu=True)
        return refine_stage(out, test_feats["conv1"], (self.f0_0, self.f0_1), (self.post0_0, self.post0_1), relu=True)

    def forward_prepared(
        self,
        test_feats: Features,
        reference: PreparedReference,
        dist_map: torch.Tensor,
        memory: Sequence[PreparedSample] = (),
    ) -> torch.Tensor:
        """Logits (B, 2, H, W) against a prepared reference and memory (channel 0 target, 1 background)."""
        corr = self.correlation(test_feats["layer3"], reference.sample, dist_map, memory)
        semantic = self.attention_prepared(reference.tokens, test_feats["layer3"])
        return self.refine(corr, semantic, test_feats)

    def forward(
        self,
        test_feats: Features,
        train_feats: Features,
        train_mask: torch.Tensor,
        dist_map: torch.Tensor,
        memory: Sequence[MemorySample] | None = None,
    ) -> torch.Tensor:
        """Logits (B, 2, H, W); channel 0 target, 1 background. Masks/maps are (B, 1, H, W)."""
        reference = self.prepare_reference(train_feats["layer3"], train_mask)
        stored = [self.prepare_sample(feats["layer3"], mask) for feats, mask in memory or ()]
        return self.forward_prepared(test_feats, reference, dist_map, stored)
