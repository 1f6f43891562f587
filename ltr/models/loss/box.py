"""Box regression loss of STARK/BIT stage 1: ``w_giou · GIoU + w_l1 · L1`` on normalised xyxy boxes."""
from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import box_convert, box_iou, generalized_box_iou_loss


class GIoUL1Loss(nn.Module):
    """Weighted GIoU + L1 between predicted and ground-truth boxes normalised to the search crop.

    The ground truth is clamped to [0, 1] in xyxy (targets partly outside the crop), as STARK does.
    Returns the total loss and a dict of detached stats (``giou``, ``l1``, ``iou``).
    """

    def __init__(self, giou_weight: float = 2.0, l1_weight: float = 5.0, pred_format: str = "cxcywh",
                 gt_format: str = "xywh") -> None:
        super().__init__()
        self.giou_weight = giou_weight
        self.l1_weight = l1_weight
        self.pred_format = pred_format
        self.gt_format = gt_format

    def forward(self, pred: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``pred``, ``gt``: (B, 4) in their configured formats. Returns (loss, stats)."""
        if pred.shape != gt.shape or pred.shape[-1] != 4:
            raise ValueError(f"expected matching (B, 4) boxes, got pred {tuple(pred.shape)} and gt {tuple(gt.shape)}")
        if not torch.isfinite(pred).all():
            raise ValueError("predicted boxes contain NaN/inf; the network diverged")
        pred_xyxy = box_convert(pred.float(), self.pred_format, "xyxy")
        gt_xyxy = box_convert(gt.float(), self.gt_format, "xyxy").clamp(0.0, 1.0)
        giou = generalized_box_iou_loss(pred_xyxy, gt_xyxy, reduction="mean")
        l1 = nn.functional.l1_loss(pred_xyxy, gt_xyxy)
        loss = self.giou_weight * giou + self.l1_weight * l1
        with torch.no_grad():
            iou = box_iou(pred_xyxy, gt_xyxy).diagonal().mean()
        return loss, {"giou": giou.detach(), "l1": l1.detach(), "iou": iou}
