"""Training losses: box regression (GIoU + L1) and score classification (BCE)."""
from ltr.models.loss.box import GIoUL1Loss
from ltr.models.loss.score import score_loss

__all__ = ["GIoUL1Loss", "score_loss"]
