"""The actor: runs the network on a batch and turns its outputs into a weighted loss.

Trackers subclass :class:`BaseActor` and implement :meth:`compute`; the trainer only calls
``actor(batch) -> (loss, stats)``, ``actor.train(mode)`` and ``actor.to(device)``.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from ltr.data.processing import normalise_images


class BaseActor:
    """Holds the network and its objective (a module or a mapping of named loss modules).

    ``loss_weights`` maps loss names to the weights the subclass applies, e.g.
    ``{"giou": 2.0, "l1": 5.0}``. ``net`` may be replaced by a DDP / compiled wrapper.
    """

    def __init__(self, net: nn.Module, objective: nn.Module | Mapping[str, nn.Module] | None = None,
                 loss_weights: Mapping[str, float] | None = None) -> None:
        self.net = net
        self.objective = nn.ModuleDict(objective) if isinstance(objective, Mapping) else objective
        self.loss_weights = dict(loss_weights or {})
        self.device = torch.device("cpu")

    def __call__(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """Move ``batch`` to the device and return ``(loss, stats)`` (stats are plain floats)."""
        return self.compute(self.to_device(batch))

    def compute(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """Forward pass and loss on a batch already on the device; implemented per tracker."""
        raise NotImplementedError

    def to(self, device: str | torch.device) -> "BaseActor":
        """Put the network and the objective on ``device``; batches follow it."""
        self.device = torch.device(device)
        self.net.to(self.device)
        if self.objective is not None:
            self.objective.to(self.device)
        return self

    def train(self, mode: bool = True) -> None:
        """Training (or evaluation) mode of the network and the objective."""
        self.net.train(mode)
        if self.objective is not None:
            self.objective.train(mode)

    def eval(self) -> None:
        self.train(False)

    def to_device(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """The batch on the actor's device (non-blocking from pinned memory), its uint8 crops
        turned into normalised float images there (:func:`~ltr.data.processing.normalise_images`)."""
        moved = {k: v.to(self.device, non_blocking=True) if isinstance(v, torch.Tensor) else v
                 for k, v in batch.items()}
        return normalise_images(moved)
