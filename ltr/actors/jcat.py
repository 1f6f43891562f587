"""The JCAT actor: reference crop + mask and test crop + distance map -> segmentation loss and mask IoU.

Batches come from segmentation episodes (``data.sampler.mode: segmentation`` with
``processing.masks`` and ``processing.distance_map``): one reference (template) frame and one
test (search) frame per episode. The backbone is frozen inside the network, so only the head
(``segm_predictor``) receives gradients.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from ltr.actors import ACTORS
from ltr.actors.base import BaseActor
from ltr.models.loss.segmentation import ContourWeightedSegmentationLoss


def mask_iou(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-sample IoU (B,) of the predicted mask (target logit > background logit) with ``mask``.

    Two empty masks count as a perfect match.
    """
    pred = logits[:, 0] > logits[:, 1]
    truth = mask > 0.5
    inter = (pred & truth).flatten(1).sum(1).float()
    union = (pred | truth).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


class JcatActor(BaseActor):
    """Runs :meth:`JcatNet.forward` on the first reference and test frame of each episode."""

    def compute(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        for key in ("template_images", "template_masks", "search_images", "search_masks", "search_dist"):
            if key not in batch:
                raise KeyError(f"JCAT batches need '{key}': use sampler mode 'segmentation' with "
                               "processing.masks and processing.distance_map enabled")
        logits = self.net(batch["template_images"][:, 0], batch["search_images"][:, 0],
                          batch["template_masks"][:, 0], batch["search_dist"][:, 0])
        target = batch["search_masks"][:, 0]
        segm = self.objective(logits, target)
        loss = self.loss_weights.get("segm", 1.0) * segm
        iou = mask_iou(logits.detach(), target)
        return loss, {"segm": float(segm.detach()), "mask_iou": float(iou.mean())}


@ACTORS.register("jcat")
def build_jcat_actor(net: nn.Module, config: Any) -> JcatActor:
    """Registry constructor: the contour-weighted segmentation loss with weight 1."""
    return JcatActor(net, objective=ContourWeightedSegmentationLoss(), loss_weights={"segm": 1.0})
