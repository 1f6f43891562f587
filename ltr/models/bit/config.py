"""``BitModelConfig``: every BIT design switch, with ranges; its fields are the ``bit`` net's kwargs.

Defaults are bit.md section 2, design A (BIT-101): ResNet-101 + 1x1 bottleneck to 256,
6-layer post-norm encoder, MDAI over layers 4-6 (per-level DSA, cross-attention DCA), CTIF in
both directions with concat-conv fusion, STARK corner head, box-average-pool score MLP (f averaged
over RoIAlign bins of the predicted box, STARK's ``cls_head``),
no decoder, 128/320 crops.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from ltr.models.backbone.pretrained import pretrained_problem
from ltr.models.backbone.resnet import LAYER_ORDER

VIT_DEPTH = 12

BackboneName = Literal["resnet18", "resnet50", "resnet101", "efficientnet_lite0"]
VitName = Literal["vit_tiny", "vit_small", "vit_base"]


@dataclass
class BitModelConfig:
    """BIT network hyper-parameters (the ``model:`` section of ``experiments/bit/*.yaml``)."""

    backbone: BackboneName = "resnet101"
    # imagenet (torchvision's, downloaded once) | none (random init on purpose) | a local state_dict
    # path; None (unset) = random with a warning, refused for training while layers/BN are frozen
    backbone_weights: Optional[str] = None
    # STARK fine-tunes a pretrained ResNet: frozen BN, conv1+layer1 frozen. A backbone trained from
    # scratch needs every layer: frozen_layers [] (bit/tiny; it keeps frozen, i.e. identity, BN).
    backbone_frozen_bn: bool = True
    backbone_frozen_layers: tuple[str, ...] = ("conv1", "layer1")
    # 16: STARK's layer3 map. 8: layer3 keeps layer2's resolution (no new weights), 4x the tokens;
    # for small crops, where a 128 px search crop would give the box head only an 8x8 map
    backbone_stride: Literal[16, 8] = 16
    transformer_source: Literal["encoder", "vit"] = "encoder"  # vit: timm ViT tokens replace encoder levels
    vit: VitName = "vit_base"
    vit_weights: Optional[str] = None  # imagenet (timm's, downloaded once) | none | local timm state_dict
    d_model: int = field(default=256, metadata={"min": 16, "max": 1024})
    nheads: int = field(default=8, metadata={"min": 1, "max": 32})
    dim_feedforward: int = field(default=2048, metadata={"min": 16, "max": 8192})
    dropout: float = field(default=0.1, metadata={"min": 0.0, "max": 0.9})
    enc_layers: int = field(default=6, metadata={"min": 1, "max": 24})
    mdai: bool = True  # False: ablation, the last level alone feeds CTIF
    mdai_levels: tuple[int, ...] = field(default=(4, 5, 6), metadata={"min": 1, "max": 24})  # 1-based
    dsa_shared: bool = False  # one DSA block for all levels instead of one per level
    dsa_dual: bool = False  # add channel self-attention to DSA's spatial attention
    dca_mode: Literal["cross_attention", "weighted"] = "cross_attention"
    ctif_directions: Literal["both", "a", "b", "none"] = "both"  # a: T queries CNN, b: CNN queries T
    ctif_keys: Literal["search", "all"] = "search"  # keys of direction (b): search tokens or all tokens
    ctif_cnn_feature: Literal["bottleneck", "layer3"] = "bottleneck"  # layer3: raw map, own projection
    fusion: Literal["concat_conv", "add", "conv3x3", "gate"] = "concat_conv"
    head_channels: int = field(default=256, metadata={"min": 8, "max": 1024})  # corner-head tower width
    score_head: Literal["pool_mlp", "roi_token", "query"] = "pool_mlp"  # query needs the decoder
    score_roi_size: int = field(default=4, metadata={"min": 1, "max": 16})
    score_template_tokens: bool = False  # roi_token: the score token also attends to the initial template
    decoder: bool = False  # keep STARK's decoder + query: re-weights f as STARK's head input
    dec_layers: int = field(default=6, metadata={"min": 1, "max": 12})
    # not in BIT (bit/tiny): add the pixel-wise correlation of the search CNN features with the
    # initial template's target region to f, so a briefly trained net can match its template
    template_correlation: bool = False
    template_size: int = field(default=128, metadata={"min": 32, "max": 512})
    search_size: int = field(default=320, metadata={"min": 64, "max": 1024})

    def __post_init__(self) -> None:
        self.mdai_levels = tuple(self.mdai_levels)
        self.backbone_frozen_layers = tuple(self.backbone_frozen_layers)
        problems = []
        kept = LAYER_ORDER[: LAYER_ORDER.index("layer3") + 1]  # BIT cuts the ResNet after layer3
        bad_layers = [n for n in self.backbone_frozen_layers if n not in kept]
        if bad_layers:
            problems.append(f"backbone_frozen_layers {bad_layers}: choose from {', '.join(kept)}")
        if self.d_model % self.nheads or self.d_model % 4:
            problems.append(f"d_model {self.d_model} must be divisible by nheads {self.nheads} and by 4")
        if self.transformer_source == "vit" and self.backbone_stride != 16:
            problems.append("the ViT variant's tokens are 16 px patches: it needs backbone_stride 16")
        for name in ("template_size", "search_size"):
            if getattr(self, name) % self.backbone_stride:
                problems.append(f"{name} {getattr(self, name)} must be a multiple of the stride {self.backbone_stride}")
        depth = self.transformer_depth
        levels = self.mdai_levels
        if list(levels) != sorted(set(levels)) or not levels or not all(1 <= lv <= depth for lv in levels):
            problems.append(f"mdai_levels {list(levels)} must be increasing layer numbers in [1, {depth}]")
        if self.mdai and len(levels) < 2:
            problems.append("MDAI aggregates at least 2 levels; set mdai: false to use one level")
        if self.score_template_tokens and self.score_head != "roi_token":
            problems.append("score_template_tokens needs score_head 'roi_token'")
        if self.score_head == "query" and not self.decoder:
            problems.append("score_head 'query' scores the decoder output; it needs decoder: true")
        if self.head_channels % 8:
            problems.append(f"head_channels {self.head_channels} must be divisible by 8")
        if problems:
            raise ValueError("; ".join(problems))

    def pretrained_problem(self) -> Optional[str]:
        """Why training must not start from this backbone init (unset weights, frozen parts), or None."""
        frozen = self.backbone_frozen_bn or bool(self.backbone_frozen_layers)
        return pretrained_problem(self.backbone, self.backbone_weights, frozen, "backbone_weights")

    @property
    def transformer_depth(self) -> int:
        """Layers the transformer side has: encoder layers, or the ViT's blocks."""
        return VIT_DEPTH if self.transformer_source == "vit" else self.enc_layers

    @property
    def levels_used(self) -> tuple[int, ...]:
        """1-based transformer layers whose outputs feed MDAI (or the last one without MDAI)."""
        return self.mdai_levels if self.mdai else (self.transformer_depth,)
