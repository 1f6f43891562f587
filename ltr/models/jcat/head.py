"""The JCAT segmentation head (``segm_predictor``): correlation + attention branches, fused and refined.

Layers are attributes of this module under the released names (``segment0``, ``mixer1``,
``f2_0``, ``post0_1``, ...) so the release state_dict loads by key; the arithmetic of each
branch lives in its own module (``correlation``, ``attention``, ``refinement``).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ltr.models.jcat.attention import AttentionFusion
from ltr.models.jcat.blocks import conv, conv_no_relu, kaiming_init
from ltr.models.jcat.correlation import merge_memory, similarity_maps
from ltr.models.jcat.refinement import refine_stage

Features = Mapping[str, torch.Tensor]
MemorySample = tuple[Features, torch.Tensor]

INTER_DIMS = (4, 16, 32, 64)  # decoder widths at conv1, layer1, layer2, layer3 resolution
SEGM_DIMS = (64, 64)  # position-feature convs before the cosine similarity
ATTENTION_HIDDEN = 512
ATTENTION_HEADS = 8
MIXER_INPUTS = 3  # fg probability, pos map, distance map


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

    def correlation(
        self,
        test_layer3: torch.Tensor,
        train_layer3: torch.Tensor,
        train_mask: torch.Tensor,
        dist_map: torch.Tensor,
        memory: Sequence[tuple[torch.Tensor, torch.Tensor]] = (),
    ) -> torch.Tensor:
        """Correlation branch -> (B, 64, h, w); ``memory`` holds extra (layer3, mask) samples."""
        test = self.position_features(test_layer3)
        reference = similarity_maps(test, self.position_features(train_layer3), train_mask, self.topk)
        stored = [similarity_maps(test, self.position_features(l3), mask, self.topk) for l3, mask in memory]
        pos, neg, fg = merge_memory(reference, stored)
        dist = F.interpolate(dist_map, size=test.shape[-2:])
        return self.mixer1(self.mixer0(torch.cat((fg.unsqueeze(1), pos.unsqueeze(1), dist), dim=1)))

    def attention(self, train_layer3: torch.Tensor, test_layer3: torch.Tensor) -> torch.Tensor:
        """Attention branch -> (B, 64, h, w) semantic features on the test grid."""
        return self.fusion(self.fusion1(self.fusion0(train_layer3)), self.fusion1(self.fusion0(test_layer3)))

    def refine(self, correlation: torch.Tensor, semantic: torch.Tensor, test_feats: Features) -> torch.Tensor:
        """Fuse both branches and refine with the test taps up to 16× the layer3 grid."""
        out = refine_stage(correlation, semantic, (self.f3_0, self.f3_1), (self.s3_0, self.s3_1), relu=False)
        out = refine_stage(out, test_feats["layer2"], (self.f2_0, self.f2_1), (self.post2_0, self.post2_1), relu=True)
        out = refine_stage(out, test_feats["layer1"], (self.f1_0, self.f1_1), (self.post1_0, self.post1_1), relu=True)
        return refine_stage(out, test_feats["conv1"], (self.f0_0, self.f0_1), (self.post0_0, self.post0_1), relu=True)

    def forward(
        self,
        test_feats: Features,
        train_feats: Features,
        train_mask: torch.Tensor,
        dist_map: torch.Tensor,
        memory: Sequence[MemorySample] | None = None,
    ) -> torch.Tensor:
        """Logits (B, 2, H, W); channel 0 target, 1 background. Masks/maps are (B, 1, H, W)."""
        stored = [(feats["layer3"], mask) for feats, mask in memory or ()]
        corr = self.correlation(test_feats["layer3"], train_feats["layer3"], train_mask, dist_map, stored)
        semantic = self.attention(train_feats["layer3"], test_feats["layer3"])
        return self.refine(corr, semantic, test_feats)
