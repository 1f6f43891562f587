"""Optimizer and scheduler construction: trainable filter, per-module learning rates."""
from __future__ import annotations

import logging
import math

import torch
from torch import nn

from ltr.config.train import TrainConfig

logger = logging.getLogger(__name__)


def apply_trainable_filter(net: nn.Module, patterns: list[str]) -> list[str]:
    """Freeze every parameter whose name contains none of ``patterns`` (empty: keep as is).

    Returns the names left trainable; an error when a non-empty filter matches nothing.
    """
    if patterns:
        for name, param in net.named_parameters():
            if not any(p in name for p in patterns):
                param.requires_grad_(False)
    trainable = [n for n, p in net.named_parameters() if p.requires_grad]
    if not trainable:
        raise ValueError(f"no trainable parameters left (trainable filter: {patterns})")
    return trainable


def param_groups(net: nn.Module, lr: float, multipliers: dict[str, float]) -> list[dict]:
    """Trainable parameters grouped by the longest matching name prefix in ``multipliers``."""
    prefixes = sorted(multipliers, key=len, reverse=True)
    groups: dict[str, list[nn.Parameter]] = {}
    for name, param in net.named_parameters():
        if not param.requires_grad:
            continue
        prefix = next((p for p in prefixes if name.startswith(p)), "")
        groups.setdefault(prefix, []).append(param)
    unused = set(multipliers) - set(groups)
    if unused:
        logger.warning("lr_multipliers prefixes match no trainable parameter: %s", sorted(unused))
    return [{"params": params, "lr": lr * multipliers.get(prefix, 1.0), "name": prefix or "default"}
            for prefix, params in sorted(groups.items())]


def build_optimizer(net: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW / Adam / SGD over the trainable parameters, with per-prefix learning rates."""
    groups = param_groups(net, config.lr, config.lr_multipliers)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> torch.optim.lr_scheduler.LRScheduler:
    """Per-epoch schedule: constant, step at ``step_fraction·epochs``, multistep or cosine."""
    sched = torch.optim.lr_scheduler
    if config.scheduler == "step":
        step = max(1, math.floor(config.step_fraction * config.epochs))
        return sched.StepLR(optimizer, step_size=step, gamma=config.gamma)
    if config.scheduler == "multistep":
        return sched.MultiStepLR(optimizer, milestones=list(config.milestones), gamma=config.gamma)
    if config.scheduler == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=config.epochs, eta_min=config.min_lr)
    return sched.ConstantLR(optimizer, factor=1.0, total_iters=0)
