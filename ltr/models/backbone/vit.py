"""timm Vision Transformers as joint template+search token encoders (CNN+ViT BIT variant).

Each crop is patch-embedded on its own with the absolute position embedding resampled to its
grid (no class token), the crops' tokens are concatenated and run through the first ``depth``
blocks, and every block's output is returned. Attribute names are timm's, so a timm
state_dict loads by key. Initial weights: ``weights`` is ``imagenet`` (timm's default pretrained tag,
downloaded once from the Hugging Face hub into the torch cache), ``none``, unset (random, warned) or a
local state_dict / safetensors file (:mod:`ltr.models.backbone.pretrained`).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import timm
import torch
from timm.layers import resample_abs_pos_embed
from torch import nn

from ltr.models.backbone.pretrained import load_state_dict, vit_imagenet_url, weights_file
from ltr.models.registry import BACKBONES

logger = logging.getLogger(__name__)

TIMM_NAMES = {
    "vit_tiny": "vit_tiny_patch16_224",
    "vit_small": "vit_small_patch16_224",
    "vit_base": "vit_base_patch16_224",
}


class ViTBackbone(nn.Module):
    """A timm ViT (patch 16) truncated to ``depth`` blocks that encodes several crops jointly."""

    def __init__(self, name: str = "vit_base", depth: int | None = None, weights: str | None = None,
                 drop_path_rate: float = 0.0) -> None:
        super().__init__()
        if name not in TIMM_NAMES:
            raise ValueError(f"unknown ViT '{name}'; choose one of {sorted(TIMM_NAMES)}")
        vit = timm.create_model(TIMM_NAMES[name], pretrained=False, num_classes=0, dynamic_img_size=True,
                                drop_path_rate=drop_path_rate)
        full_depth = len(vit.blocks)
        depth = full_depth if depth is None else depth
        if not 1 <= depth <= full_depth:
            raise ValueError(f"{name} has {full_depth} blocks; depth must be in [1, {full_depth}], got {depth}")
        self.name = name
        self.embed_dim = vit.embed_dim
        self.patch_size = vit.patch_embed.patch_size[0]
        self.patch_embed = vit.patch_embed
        self.pos_embed = vit.pos_embed  # (1, 1 + 14*14, D): class-token slot + 224/16 grid
        self.num_prefix_tokens = vit.num_prefix_tokens
        self.blocks = nn.Sequential(*vit.blocks[:depth])
        path = weights_file(weights, lambda: vit_imagenet_url(TIMM_NAMES[name]))
        if path is not None:
            self.load_local_weights(path)
        elif weights is None:
            logger.warning("%s backbone starts from random init (model.vit_weights not set; "
                           "'imagenet' loads timm's weights)", name)

    @property
    def depth(self) -> int:
        """Number of transformer blocks kept."""
        return len(self.blocks)

    def load_local_weights(self, path: str | Path) -> list[str]:
        """Load a timm state_dict file (weights only), ignoring blocks and heads we cut; returns
        the keys loaded."""
        state = load_state_dict(Path(path))
        own = self.state_dict()
        kept = {k: v for k, v in state.items() if k in own}
        missing = [k for k in own if k not in kept]
        if missing:
            raise ValueError(f"{path}: ViT weights lack {len(missing)} keys, e.g. {missing[:3]}")
        wrong = [f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}"
                 for k, v in kept.items() if v.shape != own[k].shape]
        if wrong:
            raise ValueError(f"{path}: shape mismatch for {self.name}: {wrong[:3]}")
        self.load_state_dict(kept)
        logger.info("loaded %d %s weight tensors from %s", len(kept), self.name, path)
        return list(kept)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Patch tokens of one crop with resampled position embedding: (B, h·w, D)."""
        x = self.patch_embed(images)  # B, h, w, D
        b, h, w, d = x.shape
        pos = resample_abs_pos_embed(self.pos_embed, new_size=[h, w], num_prefix_tokens=self.num_prefix_tokens)
        pos = pos[:, self.num_prefix_tokens:]
        return x.reshape(b, h * w, d) + pos

    def forward_tokens(self, tokens: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Run the blocks over the concatenated per-crop tokens; every block's (B, N, D) output."""
        x = torch.cat(list(tokens), dim=1)
        outputs = []
        for block in self.blocks:
            x = block(x)
            outputs.append(x)
        return outputs

    def forward(self, images: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Embed each crop, then encode them jointly; returns every block's output."""
        return self.forward_tokens([self.embed(im) for im in images])


@BACKBONES.register("vit")
def vit_backbone(**kwargs) -> ViTBackbone:
    """Registry entry: ``BACKBONES.build('vit', name='vit_base', depth=12, weights=None)``."""
    return ViTBackbone(**kwargs)
