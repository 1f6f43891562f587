"""The JCAT network: frozen ResNet ``feature_extractor`` + ``segm_predictor`` head, registered as ``jcat``.

``state_dict()`` keys and shapes equal the released ``JcatNet.pth.tar`` (``release_keys.txt``).
Tracker API: ``extract_features`` once per frame, then ``segment`` with the reference features,
its mask, the distance map and an optional memory bank; or, computing what depends on the
reference and the memory samples alone once, ``prepare_reference`` / ``prepare_memory`` when they
are made and ``segment_prepared`` per frame. ``forward`` is the training pass.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import torch
from torch import nn

from ltr.models.jcat.backbone import TAPS, build_jcat_backbone
from ltr.models.jcat.config import JcatModelConfig
from ltr.models.jcat.head import Features, JcatHead, MemorySample, PreparedReference, PreparedSample
from ltr.models.registry import NETWORKS


def _as_map(x: torch.Tensor, name: str, dtype: torch.dtype) -> torch.Tensor:
    """(B, H, W) or (B, 1, H, W) -> (B, 1, H, W) of ``dtype``; anything else is an error naming ``name``."""
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"{name} must be (B, H, W) or (B, 1, H, W), got shape {tuple(x.shape)}")
    return x.to(dtype)


class JcatNet(nn.Module):
    """JCAT: segmentation of the target in a test crop given a reference crop and its mask."""

    # held only so the released state_dict loads strictly; never computed (exports store zeros)
    unused_state_prefixes = ("feature_extractor.layer4.", "feature_extractor.fc.")

    def __init__(self, cfg: JcatModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.feature_extractor = build_jcat_backbone(cfg.backbone, cfg.backbone_weights)
        dims = [self.feature_extractor.out_channels[tap] for tap in TAPS]
        self.segm_predictor = JcatHead(dims, topk=cfg.topk, dropout=cfg.dropout)

    def extract_features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Backbone taps ``conv1``, ``layer1``, ``layer2``, ``layer3`` of normalised images (B, 3, H, W)."""
        return dict(self.feature_extractor(image))

    def segment(
        self,
        test_feats: Features,
        train_feats: Features,
        train_mask: torch.Tensor,
        dist_map: torch.Tensor,
        memory: Sequence[MemorySample] | None = None,
    ) -> torch.Tensor:
        """Logits (B, 2, H, W) for the test crop (channel 0 target, 1 background).

        ``train_mask`` / ``dist_map``: (B, [1,] H, W) reference mask and test distance map;
        ``memory``: extra (features, mask) samples (only their ``layer3`` is used), merged by
        element-wise max; the attention branch always uses the reference (jcat.md).
        """
        dtype = test_feats["layer3"].dtype
        memory = [(feats, _as_map(mask, f"memory[{i}] mask", dtype)) for i, (feats, mask) in enumerate(memory or ())]
        return self.segm_predictor(
            test_feats, train_feats, _as_map(train_mask, "train_mask", dtype), _as_map(dist_map, "dist_map", dtype),
            memory,
        )

    def prepare_reference(self, train_feats: Features, train_mask: torch.Tensor) -> PreparedReference:
        """What ``segment`` derives from the reference alone, for :meth:`segment_prepared`."""
        layer3 = train_feats["layer3"]
        return self.segm_predictor.prepare_reference(layer3, _as_map(train_mask, "train_mask", layer3.dtype))

    def prepare_memory(self, feats: Features, mask: torch.Tensor) -> PreparedSample:
        """What ``segment`` derives from a memory sample alone, for :meth:`segment_prepared`."""
        layer3 = feats["layer3"]
        return self.segm_predictor.prepare_sample(layer3, _as_map(mask, "memory mask", layer3.dtype))

    def segment_prepared(
        self,
        test_feats: Features,
        reference: PreparedReference,
        dist_map: torch.Tensor,
        memory: Sequence[PreparedSample] = (),
    ) -> torch.Tensor:
        """:meth:`segment` against a prepared reference and memory bank (the same logits)."""
        dtype = test_feats["layer3"].dtype
        return self.segm_predictor.forward_prepared(test_feats, reference, _as_map(dist_map, "dist_map", dtype), memory)

    def forward(
        self,
        train_imgs: torch.Tensor,
        test_imgs: torch.Tensor,
        train_masks: torch.Tensor,
        test_dist: torch.Tensor,
    ) -> torch.Tensor:
        """Training pass on batches of (reference, test) crops -> logits (B, 2, H, W)."""
        return self.segment(
            self.extract_features(test_imgs), self.extract_features(train_imgs), train_masks, test_dist
        )


@NETWORKS.register("jcat")
def jcat(**kwargs: Any) -> JcatNet:
    """Registry constructor: plain kwargs = the fields of :class:`JcatModelConfig`."""
    return JcatNet(JcatModelConfig(**kwargs))


def jcat_kwargs(cfg: JcatModelConfig) -> dict[str, Any]:
    """Plain constructor kwargs of a config (what checkpoints store as the network kwargs)."""
    return dataclasses.asdict(cfg)
