"""Score-head loss of stage 2: binary cross-entropy with logits on target-present labels."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def score_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean BCE-with-logits; ``logits`` (B, 1) or (B,), ``labels`` the same number of 0/1 values."""
    if logits.numel() != labels.numel():
        raise ValueError(f"{logits.numel()} logits but {labels.numel()} labels")
    return F.binary_cross_entropy_with_logits(logits.reshape(-1).float(), labels.reshape(-1).float())
