"""JCAT as two ONNX graphs: ``jcat_features`` (crop -> backbone taps, run once for the reference
and once per test crop) and ``jcat_segment`` (test taps + reference layer3/mask + distance map +
memory bank -> logits).

The memory bank has a dynamic length ``M`` (0 allowed): the graph stacks the reference maps with
the memory maps and takes element-wise maxima, which for ``M = 0`` equals the reference alone and
for ``M > 0`` equals :func:`ltr.models.jcat.correlation.merge_memory` (the fg probability is the
larger of the merged and the reference softmax). Memory samples are shared by the whole batch.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ltr.export.common import Graph
from ltr.models.jcat.backbone import TAPS
from ltr.models.jcat.correlation import fg_probability, similarity_maps
from ltr.models.jcat.network import JcatNet

FEATURE_OUTPUTS = list(TAPS)
SEGMENT_INPUTS = ["test_conv1", "test_layer1", "test_layer2", "test_layer3", "train_layer3", "train_mask", "dist_map",
                  "memory_layer3", "memory_mask"]


class JcatFeatures(nn.Module):
    """``JcatNet.extract_features`` returning the taps as a tuple in ``TAPS`` order."""

    def __init__(self, net: JcatNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        feats = self.net.extract_features(image)
        return tuple(feats[t] for t in TAPS)


def memory_maps(head: nn.Module, test: torch.Tensor, memory_layer3: torch.Tensor, memory_mask: torch.Tensor,
                topk: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Positive/negative maps (B, M, H, W) of every memory sample (M, C, h, w) against the test features."""
    train = head.position_features(memory_layer3)
    m, c, h, w = train.shape  # explicit reshapes: a -1 cannot be resolved when M = 0
    train = F.normalize(train, p=2, dim=1).reshape(m, c, h * w)
    sim = torch.einsum("bchw,mcn->bmhwn", F.normalize(test, p=2, dim=1), train)
    weight = F.interpolate(memory_mask, size=(h, w)).reshape(m, h * w)[None, :, None, None, :]
    pos = torch.topk(sim * weight, topk, dim=-1).values.mean(dim=-1)
    neg = torch.topk(sim * (1 - weight), topk, dim=-1).values.mean(dim=-1)
    return pos, neg


class JcatSegment(nn.Module):
    """``JcatNet.segment`` with tensor-only inputs (the memory bank as stacked tensors)."""

    def __init__(self, net: JcatNet) -> None:
        super().__init__()
        self.head = net.segm_predictor

    def forward(self, test_conv1: torch.Tensor, test_layer1: torch.Tensor, test_layer2: torch.Tensor,
                test_layer3: torch.Tensor, train_layer3: torch.Tensor, train_mask: torch.Tensor,
                dist_map: torch.Tensor, memory_layer3: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        head = self.head
        test = head.position_features(test_layer3)
        ref_pos, ref_neg = similarity_maps(test, head.position_features(train_layer3), train_mask, head.topk)
        mem_pos, mem_neg = memory_maps(head, test, memory_layer3, memory_mask, head.topk)
        pos = torch.cat((ref_pos[:, None], mem_pos), dim=1).amax(dim=1)
        neg = torch.cat((ref_neg[:, None], mem_neg), dim=1).amax(dim=1)
        fg = torch.maximum(fg_probability(pos, neg), fg_probability(ref_pos, ref_neg))
        dist = F.interpolate(dist_map, size=test.shape[-2:])
        corr = head.mixer1(head.mixer0(torch.cat((fg.unsqueeze(1), pos.unsqueeze(1), dist), dim=1)))
        semantic = head.attention(train_layer3, test_layer3)
        feats = {"conv1": test_conv1, "layer1": test_layer1, "layer2": test_layer2, "layer3": test_layer3}
        return head.refine(corr, semantic, feats)


def example_inputs(net: JcatNet, crop: int, memory: int = 2, seed: int = 0) -> tuple[dict, dict]:
    """Random example inputs of both graphs at a ``crop`` x ``crop`` crop with ``memory`` samples."""
    gen = torch.Generator().manual_seed(seed)
    image = torch.randn(1, 3, crop, crop, generator=gen)
    with torch.no_grad():
        test = net.extract_features(image)
        train = net.extract_features(torch.randn(1, 3, crop, crop, generator=gen))
        mem = net.extract_features(torch.randn(memory, 3, crop, crop, generator=gen))["layer3"]
    mask = (torch.rand(1, 1, crop, crop, generator=gen) > 0.5).float()
    segment = {"test_conv1": test["conv1"], "test_layer1": test["layer1"], "test_layer2": test["layer2"],
               "test_layer3": test["layer3"], "train_layer3": train["layer3"], "train_mask": mask,
               "dist_map": torch.rand(1, 1, crop, crop, generator=gen), "memory_layer3": mem,
               "memory_mask": (torch.rand(memory, 1, crop, crop, generator=gen) > 0.5).float()}
    return {"image": image}, segment


def jcat_graphs(net: JcatNet, crop: int) -> list[Graph]:
    """Both JCAT graphs with dynamic batch, crop size and memory length."""
    net = net.eval()
    features_in, segment_in = example_inputs(net, crop)
    def spatial(name: str, batch: str = "batch") -> dict[int, str]:
        return {0: batch, 2: f"{name}_height", 3: f"{name}_width"}

    features = Graph("jcat_features", JcatFeatures(net), features_in, FEATURE_OUTPUTS,
                     {"image": spatial("image"), **{t: spatial(t) for t in TAPS}})
    axes = {name: spatial(name) for name in SEGMENT_INPUTS[:4]}
    axes.update(train_layer3=spatial("ref_layer3"), train_mask=spatial("ref_mask"), dist_map=spatial("image"),
                memory_layer3=spatial("ref_layer3", "memory"), memory_mask=spatial("ref_mask", "memory"),
                logits=spatial("image"))
    segment = Graph("jcat_segment", JcatSegment(net), segment_in, ["logits"], axes)
    return [features, segment]
