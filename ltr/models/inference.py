"""Inference fast paths for tracker networks, chosen once when a tracker loads its network.

Training never goes through here: the networks it builds keep their BatchNorm layers and the
default memory format. A tracker's network is turned into an inference-only network by
:func:`optimize_for_inference`, which applies these paths (each one tested for equal outputs
against the plain network in ``tests/test_inference_paths.py``):

* ``fold_bn``: every BatchNorm that directly follows a convolution and uses stored statistics
  (torchvision's ``FrozenBatchNorm2d``, or ``BatchNorm2d`` in eval mode) is folded into that
  convolution's weight and bias and replaced by ``nn.Identity`` (or by the activation that timm's
  ``BatchNormAct2d`` applies after it). Exact up to float rounding;
  the network's ``state_dict`` keys change, so a folded network is never saved or trained.
* ``channels_last``: 4-D weights in NHWC memory order, so oneDNN's convolutions run without
  reordering; tracker inputs are then made NHWC directly (see :func:`input_memory_format`).
  Measured faster on this project's CPUs (``benchmarks/speed_table.py``) and on an H200
  (``benchmarks/gpu_speed.py``, GPU time with CUDA graphs in bf16: BIT-101 1.11x, BIT-50 1.08x,
  JCAT 1.14x the frames/s of ``fold_bn`` alone), so it is on for every device.
* ``weight_dtype``: for a tracker that runs its network under autocast (``tracking.amp``), the
  convolution and linear weights and biases are stored in the autocast dtype once, instead of
  autocast casting every one of them again on every call (on a 2-core AVX512-BF16 CPU, about
  400 casts per JCAT frame; the JCAT tracker 0.96x its time). Autocast rounds to the same
  values, so outputs are unchanged; such a network must only be called under that autocast.

``PYTRACKING_INFERENCE=plain`` in the environment turns every path off (debugging, parity
checks); the choice is read when a network is loaded, never per frame.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn
from timm.models._efficientnet_blocks import DepthwiseSeparableConv, InvertedResidual
from torchvision.models.resnet import BasicBlock, Bottleneck
from torchvision.ops.misc import FrozenBatchNorm2d

from ltr.models.backbone.efficientnet import EfficientNetLiteBackbone
from ltr.models.backbone.resnet import ResNetBackbone

logger = logging.getLogger(__name__)

ENV_VAR = "PYTRACKING_INFERENCE"
ATTRIBUTE = "inference_paths"  # set on an optimised network: the InferencePaths it runs with
_RESNET_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"))  # forward is bnN(convN(x)) for every N
# (conv, bn) attribute pairs of modules whose forward applies that bn directly to that conv's output
_NAMED_PAIRS = {
    ResNetBackbone: _RESNET_PAIRS, Bottleneck: _RESNET_PAIRS, BasicBlock: _RESNET_PAIRS,
    EfficientNetLiteBackbone: (("conv_stem", "bn1"),),
    DepthwiseSeparableConv: (("conv_dw", "bn1"), ("conv_pw", "bn2")),
    InvertedResidual: (("conv_pw", "bn1"), ("conv_dw", "bn2"), ("conv_pwl", "bn3")),
}
LOW_PRECISION_MODULES = (nn.Conv2d, nn.Linear)  # the layers autocast runs in its low-precision dtype


@dataclass(frozen=True)
class InferencePaths:
    """Which fast paths a network runs with."""

    fold_bn: bool = True
    channels_last: bool = False
    weight_dtype: torch.dtype | None = None  # the autocast dtype the network always runs under

    @property
    def memory_format(self) -> torch.memory_format:
        """The memory format inputs of a network using these paths should have."""
        return torch.channels_last if self.channels_last else torch.contiguous_format


PLAIN = InferencePaths(fold_bn=False, channels_last=False)


def default_paths(autocast_dtype: torch.dtype | None = None) -> InferencePaths:
    """The paths trackers use unless ``PYTRACKING_INFERENCE=plain``: BatchNorm folding and
    channels_last (both measured faster on CPU and on CUDA), and weights stored in
    ``autocast_dtype`` for a network that always runs under that autocast."""
    if os.environ.get(ENV_VAR, "").strip().lower() == "plain":
        return PLAIN
    return InferencePaths(fold_bn=True, channels_last=True, weight_dtype=autocast_dtype)


def _uses_stored_statistics(bn: nn.Module) -> bool:
    if isinstance(bn, FrozenBatchNorm2d):
        return True
    return (isinstance(bn, nn.BatchNorm2d) and not bn.training and bn.track_running_stats
            and bn.running_mean is not None and bn.running_var is not None)


def _conv_bn_pairs(net: nn.Module) -> Iterator[tuple[nn.Module, str, nn.Conv2d, nn.Module]]:
    """(owner, bn attribute name, conv, bn) for every BatchNorm applied directly to a conv's output.

    Two shapes are recognised: consecutive (Conv2d, BatchNorm) children of an ``nn.Sequential``,
    and the attribute pairs of ``_NAMED_PAIRS`` (ResNet stems and blocks, whose forward is
    ``bnN(convN(x))``; EfficientNet's stem and blocks). Nothing else is touched, since a BN
    elsewhere may not follow its conv.
    """
    for owner in net.modules():
        if isinstance(owner, nn.Sequential):
            children = list(owner.named_children())
            for (_, first), (name, second) in zip(children[:-1], children[1:]):
                if isinstance(first, nn.Conv2d) and isinstance(second, (nn.BatchNorm2d, FrozenBatchNorm2d)):
                    yield owner, name, first, second
            continue
        pairs = next((pairs for kind, pairs in _NAMED_PAIRS.items() if isinstance(owner, kind)), ())
        for conv_name, bn_name in pairs:
            conv, bn = getattr(owner, conv_name, None), getattr(owner, bn_name, None)
            if isinstance(conv, nn.Conv2d) and isinstance(bn, (nn.BatchNorm2d, FrozenBatchNorm2d)):
                yield owner, bn_name, conv, bn


@torch.no_grad()
def _fold_into(conv: nn.Conv2d, bn: nn.Module) -> None:
    """conv <- bn(conv): w' = w·γ/√(σ²+ε), b' = (b - μ)·γ/√(σ²+ε) + β, computed in float64."""
    eps = bn.eps
    scale = bn.weight.double() * (bn.running_var.double() + eps).rsqrt()
    bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)
    weight = conv.weight.double() * scale.view(-1, *([1] * (conv.weight.dim() - 1)))
    new_bias = (bias - bn.running_mean.double()) * scale + bn.bias.double()
    conv.weight.copy_(weight.to(conv.weight.dtype))
    if conv.bias is None:
        conv.bias = nn.Parameter(new_bias.to(conv.weight.dtype), requires_grad=False)
    else:
        conv.bias.copy_(new_bias.to(conv.bias.dtype))


def fold_batchnorm(net: nn.Module) -> int:
    """Fold every foldable BatchNorm of ``net`` into its convolution (in place); returns how many.

    A ``BatchNorm2d`` still in training mode is left alone (its output depends on the batch).
    """
    pairs = [(owner, name, conv, bn) for owner, name, conv, bn in _conv_bn_pairs(net) if _uses_stored_statistics(bn)]
    for owner, name, conv, bn in pairs:
        _fold_into(conv, bn)
        # timm's BatchNormAct2d applies its activation after the normalisation: that stays
        setattr(owner, name, getattr(bn, "act", None) or nn.Identity())
    return len(pairs)


def optimize_for_inference(net: nn.Module, paths: InferencePaths) -> nn.Module:
    """Apply ``paths`` to ``net`` in place (eval mode, no gradients) and record them on it.

    The network is put in eval mode first, so BatchNorm layers use their stored statistics, as
    at tracking time. Returns ``net``; ``getattr(net, 'inference_paths')`` says what it runs with.
    """
    if getattr(net, ATTRIBUTE, None) is not None:
        raise RuntimeError(f"{type(net).__name__} is already optimised for inference ({getattr(net, ATTRIBUTE)})")
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    folded = fold_batchnorm(net) if paths.fold_bn else 0
    if paths.channels_last:
        net.to(memory_format=torch.channels_last)
    if paths.weight_dtype is not None:
        for module in net.modules():
            if isinstance(module, LOW_PRECISION_MODULES):
                module.to(paths.weight_dtype)
    setattr(net, ATTRIBUTE, paths)
    if paths != PLAIN:
        net.register_state_dict_pre_hook(_refuse_state_dict)
    logger.debug("%s: inference paths %s (%d BatchNorm layers folded)", type(net).__name__, paths, folded)
    return net


def _refuse_state_dict(module: nn.Module, prefix: str, keep_vars: bool) -> None:
    raise RuntimeError(f"{type(module).__name__} was optimised for inference ({describe(getattr(module, ATTRIBUTE))}): "
                       "its weights no longer match the checkpoint layout; save the network it was loaded from")


def network_paths(net: object) -> InferencePaths:
    """The paths a (possibly non-torch, e.g. ONNX) network runs with; :data:`PLAIN` when none were applied."""
    return getattr(net, ATTRIBUTE, None) or PLAIN


def input_memory_format(net: object) -> torch.memory_format:
    """The memory format a tracker should give ``net``'s image inputs."""
    return network_paths(net).memory_format


def describe(paths: InferencePaths) -> str:
    """``fold_bn+channels_last``-style label (``plain`` when nothing is on; ``+bfloat16_weights``
    with a weight dtype)."""
    on = [f.name for f in dataclasses.fields(paths) if getattr(paths, f.name) is True]
    if paths.weight_dtype is not None:
        on.append(f"{str(paths.weight_dtype).removeprefix('torch.')}_weights")
    return "+".join(on) or "plain"
