"""A tiny tracker for tests and smoke runs: network ``tiny_net``, actor and experiment schema.

The network predicts the normalised search box and a target-present logit from template and
search crops with a few thousand parameters, so training runs on a CPU in seconds. Its parts
are named like the real trackers' (``backbone``, ``box_head``, ``cls_head``) so per-module
learning rates and stage filters can be exercised.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ltr.actors import ACTORS
from ltr.actors.base import BaseActor
from ltr.config.experiment import TRACKER_SCHEMAS
from ltr.config.train import TrainingExperiment
from ltr.data.boxes import xywh_to_cxcywh
from ltr.models.registry import NETWORKS


@NETWORKS.register("tiny_net")
class TinyNet(nn.Module):
    """Shared conv backbone; template-modulated search features -> box (cx, cy, w, h) + logit."""

    def __init__(self, channels: int = 8, dropout: float = 0.1) -> None:
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, channels, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1), nn.ReLU(inplace=True),
        )
        self.box_head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * channels, 4))
        self.cls_head = nn.Linear(2 * channels, 1)

    def forward(self, template_images: torch.Tensor, search_images: torch.Tensor) -> dict[str, torch.Tensor]:
        """``template_images`` (B,T,3,h,w), ``search_images`` (B,1,3,H,W) -> ``boxes`` (B,4), ``logits`` (B,)."""
        template = self.backbone(template_images.flatten(0, 1)).mean(dim=(2, 3))
        template = template.view(template_images.shape[0], -1, template.shape[-1]).mean(dim=1)
        search = self.backbone(search_images[:, 0])
        modulated = search * template[:, :, None, None]
        pooled = torch.cat([modulated.mean(dim=(2, 3)), modulated.amax(dim=(2, 3))], dim=1)
        return {"boxes": self.box_head(pooled).sigmoid(), "logits": self.cls_head(pooled)[:, 0]}


class TinyActor(BaseActor):
    """L1 on the normalised centre-size box (positives only) + BCE on the target-present logit."""

    def compute(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        out = self.net(batch["template_images"], batch["search_images"])
        target = xywh_to_cxcywh(batch["search_boxes_norm"][:, 0]).clamp(0.0, 1.0)
        positive = batch["label"]
        per_sample = F.l1_loss(out["boxes"], target, reduction="none").mean(dim=1)
        l1 = (per_sample * positive).sum() / positive.sum().clamp(min=1)
        cls = F.binary_cross_entropy_with_logits(out["logits"], positive)
        loss = self.loss_weights.get("l1", 1.0) * l1 + self.loss_weights.get("cls", 1.0) * cls
        return loss, {"l1": float(l1.detach()), "cls": float(cls.detach())}


@ACTORS.register("tiny_net")
def build_tiny_actor(net: nn.Module, config: "TinyNetExperiment") -> TinyActor:
    return TinyActor(net, loss_weights=config.loss_weights)


@dataclass
class TinyModelConfig:
    """Kwargs of the ``tiny_net`` network."""

    channels: int = field(default=8, metadata={"min": 1, "max": 256})
    dropout: float = field(default=0.1, metadata={"min": 0.0, "max": 0.9})


@TRACKER_SCHEMAS.register("tiny_net")
@dataclass
class TinyNetExperiment(TrainingExperiment):
    """``experiments/tiny_net/*.yaml``: the shared training sections plus the tiny model."""

    network: str = "tiny_net"
    actor: str = "tiny_net"
    model: TinyModelConfig = field(default_factory=TinyModelConfig)
    loss_weights: dict[str, float] = field(default_factory=lambda: {"l1": 1.0, "cls": 1.0})
