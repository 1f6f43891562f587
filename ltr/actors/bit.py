"""The BIT actor: STARK's two training stages on trident episodes.

Stage 1 (``loss.objective: box``): the box head predicts the target in the search crop; loss
``2 · GIoU + 5 · L1`` on normalised boxes, over positive episodes only (the paper trains the
box head only with search regions that contain the target). Stage 2 (``loss.objective:
score``): only the score head learns, with BCE on the episode labels (positives and
negatives from the sampler). The actor freezes the network for its stage
(:meth:`BitNet.freeze_for_stage`), so gradients reach exactly the parts the stage trains.

Batches: ``template_images`` (B, T, 3, Hz, Wz), ``template_pad`` (B, T, Hz, Wz),
``search_images`` (B, 1, 3, Hx, Wx), ``search_pad``, ``search_boxes_norm`` (B, 1, 4) xywh,
``label`` (B,), as produced by ``ltr.data.processing``.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torchvision.ops import box_convert

from ltr.actors import ACTORS
from ltr.actors.base import BaseActor
from ltr.models.bit.experiment import BitLossConfig
from ltr.models.bit.network import BitNet
from ltr.models.loss.box import GIoUL1Loss
from ltr.models.loss.score import score_loss

REQUIRED_KEYS = ("template_images", "template_pad", "search_images", "search_pad", "search_boxes_norm", "label")
STAGE_OF_OBJECTIVE = {"box": 1, "score": 2}
SCORE_HEAD_PREFIXES = ("cls_head", "cls_pool")


def box_loss(pred: torch.Tensor, gt: torch.Tensor, objective: GIoUL1Loss) -> tuple[torch.Tensor, dict[str, float]]:
    """``objective`` (GIoU + L1) for boxes with ordered corners; L1 + a worst-case GIoU penalty for inverted ones.

    ``pred`` (B, 4) normalised cxcywh, ``gt`` (B, 4) normalised xywh. The corner head predicts
    both corners independently, so a box can come out inverted (w or h <= 0), where GIoU is
    unbounded below: left to it, a net learns inverted boxes with a negative loss. STARK drops
    GIoU for such batches, which still rewards inverting; here an inverted box costs
    ``giou_weight · (2 + |w⁻| + |h⁻|)`` (the worst GIoU loss plus a slope back towards ordered
    corners) on top of its L1 term. The batch loss averages both parts.
    """
    ordered = (pred[:, 2] > 0) & (pred[:, 3] > 0)
    count = pred.shape[0]
    loss = pred.new_zeros(())
    stats = {"giou": 0.0, "l1": 0.0, "iou": 0.0}
    if bool(ordered.any()):
        part, part_stats = objective(pred[ordered], gt[ordered])
        share = float(ordered.sum()) / count
        loss = loss + share * part
        stats = {k: float(v) * share for k, v in part_stats.items()}
    if not bool(ordered.all()):
        bad = pred[~ordered].float()
        l1 = F.l1_loss(box_convert(bad, "cxcywh", "xyxy"),
                       box_convert(gt[~ordered].float(), "xywh", "xyxy").clamp(0.0, 1.0))
        giou = (2.0 + F.relu(-bad[:, 2]) + F.relu(-bad[:, 3])).mean()
        share = float((~ordered).sum()) / count
        loss = loss + share * (objective.giou_weight * giou + objective.l1_weight * l1)
        stats["l1"] += share * float(l1.detach())
        stats["giou"] += share * float(giou.detach())
    stats["inverted"] = 1.0 - float(ordered.float().mean())
    return loss, stats


class BitActor(BaseActor):
    """Runs :meth:`BitNet.forward` on a batch and applies the stage's objective."""

    def __init__(self, net: BitNet, loss: BitLossConfig) -> None:
        super().__init__(net, objective=GIoUL1Loss(loss.giou, loss.l1) if loss.objective == "box" else None,
                         loss_weights={"giou": loss.giou, "l1": loss.l1, "score": loss.score})
        self.mode = loss.objective
        net.freeze_for_stage(STAGE_OF_OBJECTIVE[loss.objective])

    def train(self, mode: bool = True) -> None:
        """Training mode; in the score stage only the score head trains, the frozen rest stays in
        eval mode (no dropout, no BatchNorm statistics drifting under negative episodes)."""
        super().train(mode)
        if self.mode == "score" and mode:
            net = getattr(self.net, "module", self.net)  # DDP wraps the net
            for name, module in net.named_modules():
                module.train(name.startswith(SCORE_HEAD_PREFIXES))

    def compute(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        missing = [k for k in REQUIRED_KEYS if k not in batch]
        if missing:
            raise KeyError(f"BIT batches need {missing}: use the generic processing with trident episodes")
        if self.mode == "box":
            return self._box_loss(batch)
        return self._score_loss(batch)

    def _forward(self, batch: Mapping[str, Any], keep: torch.Tensor | None, box: bool, score: bool) -> dict:
        """Net forward on the episodes selected by ``keep`` (all when None)."""
        def take(t: torch.Tensor) -> torch.Tensor:
            return t if keep is None else t[keep]
        templates, masks = take(batch["template_images"]), take(batch["template_pad"])
        count = templates.shape[1]
        return self.net([templates[:, i] for i in range(count)], [masks[:, i] for i in range(count)],
                        take(batch["search_images"])[:, 0], take(batch["search_pad"])[:, 0],
                        run_box_head=box, run_score_head=score)

    def _box_loss(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        positive = batch["label"].reshape(-1) > 0.5
        if not bool(positive.any()):
            raise ValueError("a stage-1 batch without positive episodes: set data.sampler.negative_prob "
                             "below 1 (STARK trains the box head on positives only)")
        keep = None if bool(positive.all()) else positive
        out = self._forward(batch, keep, box=True, score=False)
        gt = batch["search_boxes_norm"][:, 0] if keep is None else batch["search_boxes_norm"][keep, 0]
        return box_loss(out["pred_boxes"], gt, self.objective)

    def _score_loss(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        out = self._forward(batch, None, box=False, score=True)
        labels = batch["label"].reshape(-1).float()
        logits = out["score_logits"].reshape(-1)
        bce = score_loss(logits, labels)
        with torch.no_grad():
            correct = ((logits > 0).float() == labels).float()
        stats = {"bce": float(bce.detach()), "accuracy": float(correct.mean()), "positives": float(labels.mean())}
        return self.loss_weights["score"] * bce, stats


@ACTORS.register("bit")
def build_bit_actor(net: BitNet, config: Any) -> BitActor:
    """Registry constructor: the objective of the stage from ``config.loss`` (a :class:`BitExperiment`)."""
    return BitActor(net, config.loss)
