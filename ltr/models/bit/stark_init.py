"""Initialise BIT's shared parts from a STARK-ST checkpoint (bit.md 2.10).

Backbone, bottleneck, encoder, box head and score MLP (and decoder/query when BIT keeps them)
share STARK's names and shapes, so weights copy by key. The file is read with the restricted
unpickler (``foreign_state_dict``), never by running the pickled code. MDAI and CTIF stay new.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from ltr.admin.checkpoint import foreign_state_dict

logger = logging.getLogger(__name__)

STARK_PREFIXES = ("backbone.0.body.", "bottleneck.", "transformer.encoder.", "transformer.decoder.",
                  "query_embed.", "box_head.", "cls_head.")


@dataclass
class StarkLoadReport:
    """What ``load_stark_weights`` did: keys copied, STARK-named keys the file lacked, file keys
    the net has no place for, and the net's own new (randomly initialised) parts."""

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs."""
        return (f"STARK init: {len(self.loaded)} tensors loaded, {len(self.missing)} missing, "
                f"{len(self.unexpected)} unexpected, {len(self.new)} new (BIT-only) tensors")


def _strip_module_prefix(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the ``module.`` prefix that DDP-wrapped saves carry."""
    if state and all(k.startswith("module.") for k in state):
        return {k[len("module."):]: v for k, v in state.items()}
    return dict(state)


def load_stark_weights(net: nn.Module, source: str | Path | Mapping[str, torch.Tensor]) -> StarkLoadReport:
    """Copy STARK-ST weights (a checkpoint path or a state_dict) into ``net``'s shared parts.

    Loads non-strictly and logs missing/unexpected keys; raises ``ValueError`` on shape
    mismatches (e.g. another d_model or head width) and on backbone blocks BIT lacks (an
    ST101 file into a ResNet-50 BIT), which would otherwise load silently and half-way.
    """
    state = foreign_state_dict(source, "net") if isinstance(source, (str, Path)) else source
    state = _strip_module_prefix(state)
    own = net.state_dict()
    mismatched = [f"{k}: checkpoint {tuple(v.shape)} vs BIT {tuple(own[k].shape)}"
                  for k, v in state.items() if k in own and v.shape != own[k].shape]
    if mismatched:
        raise ValueError(f"STARK checkpoint does not fit this BIT config ({len(mismatched)} shape "
                         f"mismatches; check backbone/d_model/head_channels): " + "; ".join(mismatched[:5]))
    deeper = [k for k in state if k.startswith("backbone.") and k not in own]
    if deeper:
        raise ValueError(f"STARK checkpoint backbone has {len(deeper)} tensors this BIT's backbone lacks "
                         f"(e.g. {deeper[0]}): a deeper ResNet (ST101 file into a ResNet-50 BIT?)")
    report = StarkLoadReport(
        loaded=sorted(k for k in state if k in own),
        missing=sorted(k for k in own if k.startswith(STARK_PREFIXES) and k not in state),
        unexpected=sorted(k for k in state if k not in own),
        new=sorted(k for k in own if not k.startswith(STARK_PREFIXES)),
    )
    net.load_state_dict({k: state[k] for k in report.loaded}, strict=False)
    logger.info(report.summary())
    if report.missing:
        logger.warning("STARK checkpoint lacks %d shared keys, e.g. %s", len(report.missing), report.missing[:5])
    if report.unexpected:
        logger.info("ignored %d STARK keys BIT has no place for, e.g. %s", len(report.unexpected),
                    report.unexpected[:5])
    return report
