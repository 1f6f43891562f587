"""``JcatModelConfig``: the JCAT network's settings, with ranges; its fields are the ``jcat`` net's kwargs.

Defaults are the published network (jcat.md): ResNet-50 backbone, top-3 pooling, dropout 0.1.
Channel widths follow from the backbone and are not settings.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal, Optional, get_args

from ltr.models.backbone.pretrained import pretrained_problem

BackboneName = Literal["resnet50", "resnet18", "efficientnet_lite0"]


@dataclass
class JcatModelConfig:
    """JCAT network hyper-parameters (the ``model:`` section of ``experiments/jcat/*.yaml``)."""

    backbone: BackboneName = "resnet50"
    # imagenet (torchvision's, downloaded once) | none (random on purpose) | a local state_dict path;
    # None (unset) = random with a warning, refused for training (the backbone is frozen)
    backbone_weights: Optional[str] = None
    topk: int = field(default=3, metadata={"min": 1, "max": 64})  # similarities averaged per map
    dropout: float = field(default=0.1, metadata={"min": 0.0, "max": 0.9})  # attention branch

    def __post_init__(self) -> None:
        """Checks what the YAML loader checks, for configs built directly in code."""
        problems = []
        if self.backbone not in get_args(BackboneName):
            problems.append(f"backbone '{self.backbone}' is not one of {get_args(BackboneName)}")
        for f in fields(self):
            low, high = f.metadata.get("min"), f.metadata.get("max")
            value = getattr(self, f.name)
            if low is not None and not low <= value <= high:
                problems.append(f"{f.name} {value} must be in [{low}, {high}]")
        if problems:
            raise ValueError("; ".join(problems))

    def pretrained_problem(self) -> Optional[str]:
        """Why training must not start from this backbone init (unset weights; JCAT's ResNet is frozen)."""
        return pretrained_problem(self.backbone, self.backbone_weights, True, "backbone_weights")
