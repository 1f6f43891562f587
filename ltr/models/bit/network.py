"""The BIT network: CNN backbone -> encoder (or ViT) -> MDAI -> CTIF -> corner box head + score head.

Module names follow STARK-ST where the parts are shared (``backbone.0.body``, ``bottleneck``,
``transformer.encoder.layers.{i}``, ``box_head``, ``cls_head``) so its weights load by key
(see ``stark_init``). The forward pass is split so a tracker encodes templates once:
``forward_backbone`` per crop, ``forward_head`` per frame; ``forward`` does both for training.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from ltr.config.loader import to_dict
from ltr.models.backbone.vit import ViTBackbone
from ltr.models.bit.backbone import Joiner, MaskedBackbone
from ltr.models.bit.config import BitModelConfig
from ltr.models.bit.ctif import CTIF
from ltr.models.bit.mdai import MDAI
from ltr.models.bit.score_head import BoxPool, RoITokenPool
from ltr.models.bit.template_correlation import TemplateCorrelation
from ltr.models.layers import (
    MLP,
    CornerPredictor,
    PositionEmbeddingSine,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from ltr.models.registry import NETWORKS

FeatureDict = dict[str, torch.Tensor]
SCORE_HEAD_PREFIXES = ("cls_head.", "cls_pool.")


def xavier_init(module: nn.Module) -> None:
    """Xavier-uniform init of every >1-dim parameter, as STARK's transformer."""
    for p in module.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)


def _seq(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (H·W, B, C)."""
    return x.flatten(2).permute(2, 0, 1)


class BitTransformer(nn.Module):
    """Holds STARK's ``encoder`` (absent in the ViT variant) and, optionally, its ``decoder``."""

    def __init__(self, cfg: BitModelConfig) -> None:
        super().__init__()
        args = (cfg.d_model, cfg.nheads, cfg.dim_feedforward, cfg.dropout)
        self.encoder = (TransformerEncoder(TransformerEncoderLayer(*args), cfg.enc_layers)
                        if cfg.transformer_source == "encoder" else None)
        self.decoder = (TransformerDecoder(TransformerDecoderLayer(*args), cfg.dec_layers, cfg.d_model)
                        if cfg.decoder else None)
        xavier_init(self)


class BitNet(nn.Module):
    """BIT tracker network; build it with ``NETWORKS.build('bit', **config_fields)``.

    Parts: ``backbone`` (ResNet + sine positions), ``bottleneck`` (1x1 to d_model),
    ``transformer`` (encoder; decoder if kept), ``vit``/``vit_proj`` (ViT variant), ``mdai``,
    ``ctif``, ``template_correlation`` (optional, not in BIT), ``box_head`` (corners),
    ``cls_pool`` + ``cls_head`` (the score head on Z').
    """

    def __init__(self, cfg: BitModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        use_vit = cfg.transformer_source == "vit"
        backbone = MaskedBackbone(cfg.backbone, cfg.backbone_weights, frozen_bn=cfg.backbone_frozen_bn,
                                  frozen_layers=cfg.backbone_frozen_layers, stride=cfg.backbone_stride)
        self.backbone = Joiner(backbone, PositionEmbeddingSine(d // 2))
        cnn_channels = self.backbone.num_channels
        needs_bottleneck = not use_vit or cfg.ctif_cnn_feature == "bottleneck"
        self.bottleneck = nn.Conv2d(cnn_channels, d, kernel_size=1) if needs_bottleneck else None
        self.transformer = BitTransformer(cfg)
        if use_vit:
            self.vit = ViTBackbone(cfg.vit, depth=max(cfg.levels_used), weights=cfg.vit_weights)
            self.vit_proj = nn.Sequential(nn.LayerNorm(self.vit.embed_dim), nn.Linear(self.vit.embed_dim, d))
        else:
            self.vit = self.vit_proj = None
        attn_args = dict(d_model=d, nhead=cfg.nheads, dim_feedforward=cfg.dim_feedforward, dropout=cfg.dropout)
        self.mdai = (MDAI(len(cfg.mdai_levels), dsa_shared=cfg.dsa_shared, dsa_dual=cfg.dsa_dual,
                          dca_mode=cfg.dca_mode, **attn_args) if cfg.mdai else None)
        self.ctif = CTIF(directions=cfg.ctif_directions, keys=cfg.ctif_keys, fusion=cfg.fusion,
                         cnn_channels=cnn_channels if cfg.ctif_cnn_feature == "layer3" else None, **attn_args)
        for module in (self.mdai, self.ctif.t2c, self.ctif.c2t):
            if module is not None:
                xavier_init(module)
        self.template_correlation = (TemplateCorrelation(cfg.template_size // cfg.backbone_stride, d)
                                     if cfg.template_correlation else None)
        self.box_head = CornerPredictor(d, cfg.head_channels, feat_sz=cfg.search_size // cfg.backbone_stride,
                                        stride=cfg.backbone_stride)
        self.query_embed = nn.Embedding(1, d) if cfg.decoder else None
        if cfg.score_head == "pool_mlp":
            self.cls_pool = BoxPool(cfg.score_roi_size)
        elif cfg.score_head == "roi_token":
            self.cls_pool = RoITokenPool(size=cfg.score_roi_size, **attn_args)
            xavier_init(self.cls_pool.attn)
        else:
            self.cls_pool = None
        self.cls_head = MLP(d, d, 1, 3)
        self._trainable = {n for n, p in self.named_parameters() if p.requires_grad}

    # ------------------------------------------------------------------ forward API

    def forward_backbone(self, images: torch.Tensor, masks: torch.Tensor) -> FeatureDict:
        """Features of one crop batch: (B, 3, H, W) normalised images, (B, H, W) bool padding masks.

        Returns ``feat`` (B, d, h, w; bottleneck output, or raw layer3 when there is none),
        ``raw`` (layer3 map), ``mask`` (B, h, w), ``pos`` (B, d, h, w) and, in the ViT variant,
        ``tokens`` (B, h·w, D_vit) patch embeddings.
        """
        raw, mask, pos = self.backbone(images, masks)
        out = {"raw": raw, "mask": mask, "pos": pos,
               "feat": self.bottleneck(raw) if self.bottleneck is not None else raw}
        if self.vit is not None:
            out["tokens"] = self.vit.embed(images)
        return out

    def encode(self, template_feats: Sequence[FeatureDict], search_feat: FeatureDict) -> dict[str, Any]:
        """Token layout [templates..., search]; the transformer outputs at the levels MDAI uses.

        Returns ``levels`` (list of (N, B, d)), ``pos`` (N, B, d), ``mask`` (B, N).
        """
        crops = [*template_feats, search_feat]
        mask = torch.cat([c["mask"].flatten(1) for c in crops], dim=1)
        pos = torch.cat([_seq(c["pos"]) for c in crops], dim=0)
        if self.vit is None:
            src = torch.cat([_seq(c["feat"]) for c in crops], dim=0)
            outputs = self.transformer.encoder(src, pos, mask)
            levels = [outputs[i - 1] for i in self.cfg.levels_used]
        else:
            outputs = self.vit.forward_tokens([c["tokens"] for c in crops])
            levels = [self.vit_proj(outputs[i - 1]).transpose(0, 1) for i in self.cfg.levels_used]
        return {"levels": levels, "pos": pos, "mask": mask}

    def aggregate(self, levels: Sequence[torch.Tensor], pos: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """MDAI over the levels, or the last level alone when MDAI is off: (N, B, d)."""
        return self.mdai(levels, pos, mask) if self.mdai is not None else levels[-1]

    def interact(self, tokens: torch.Tensor, pos: torch.Tensor, mask: torch.Tensor,
                 search_feat: FeatureDict) -> torch.Tensor:
        """CTIF between aggregated tokens and the CNN search feature: f (B, d, H, W)."""
        cnn = search_feat["raw"] if self.cfg.ctif_cnn_feature == "layer3" else search_feat["feat"]
        return self.ctif(tokens, pos, mask, cnn)

    def correlate(self, f: torch.Tensor, template_feat: FeatureDict, search_feat: FeatureDict) -> torch.Tensor:
        """f plus the template-correlation features when ``template_correlation`` is on, else f."""
        if self.template_correlation is None:
            return f
        return f + self.template_correlation(template_feat["feat"], search_feat["feat"])

    def predict(self, f: torch.Tensor, tokens: torch.Tensor, pos: torch.Tensor, mask: torch.Tensor,
                run_box_head: bool = True, run_score_head: bool = False) -> dict[str, torch.Tensor]:
        """Box from f with the corner head; score from Z' (f pooled in the detached predicted box,
        or the decoder output). The score head needs the box, so it runs the box head too."""
        out: dict[str, torch.Tensor] = {"f": f}
        query = None
        if self.transformer.decoder is not None:
            tgt = torch.zeros_like(self.query_embed.weight)[:, None].expand(-1, f.shape[0], -1)
            qpos = self.query_embed.weight[:, None].expand(-1, f.shape[0], -1)
            query = self.transformer.decoder(tgt, tokens, qpos, pos, mask)[0]  # B, d
            weights = torch.einsum("bchw,bc->bhw", f, query)[:, None]
            f = f * weights  # STARK's head input: enc * (enc @ q)
        if run_box_head or (run_score_head and self.cls_pool is not None):
            box = self.box_head(f)
            out.update(pred_boxes=box["boxes"], pred_boxes_xyxy=box["boxes_xyxy"],
                       score_map_tl=box["score_map_tl"], score_map_br=box["score_map_br"])
        if run_score_head:
            if self.cls_pool is None:
                z = query
            elif self.cfg.score_template_tokens:
                count = (self.cfg.template_size // self.cfg.backbone_stride) ** 2  # the initial template leads the layout
                z = self.cls_pool(f, out["pred_boxes_xyxy"].detach(), (tokens[:count], pos[:count], mask[:, :count]))
            else:
                z = self.cls_pool(f, out["pred_boxes_xyxy"].detach())
            out["score_logits"] = self.cls_head(z)
        return out

    def forward_head(self, template_feats: Sequence[FeatureDict], search_feat: FeatureDict,
                     run_box_head: bool = True, run_score_head: bool = False) -> dict[str, torch.Tensor]:
        """Per-frame part given cached template features (list, initial first) and the search features.

        Returns ``pred_boxes`` (B, 4) normalised cxcywh in the search crop, ``pred_boxes_xyxy``,
        corner maps ``score_map_tl/br``, ``f`` (B, d, H, W) and, if asked, ``score_logits`` (B, 1).
        """
        enc = self.encode(template_feats, search_feat)
        tokens = self.aggregate(enc["levels"], enc["pos"], enc["mask"])
        f = self.interact(tokens, enc["pos"], enc["mask"], search_feat)
        f = self.correlate(f, template_feats[0], search_feat)
        return self.predict(f, tokens, enc["pos"], enc["mask"], run_box_head, run_score_head)

    def forward(self, template_imgs: Sequence[torch.Tensor], template_masks: Sequence[torch.Tensor],
                search_img: torch.Tensor, search_mask: torch.Tensor, run_box_head: bool = True,
                run_score_head: bool = False) -> dict[str, torch.Tensor]:
        """Training pass. ``template_imgs``: T crops (B, 3, Hz, Wz) (or a (T, B, 3, Hz, Wz) tensor),
        ``template_masks`` likewise (B, Hz, Wz); ``search_img`` (B, 3, Hx, Wx), ``search_mask`` (B, Hx, Wx)."""
        count = len(template_imgs)
        feats = self.forward_backbone(torch.cat(list(template_imgs)), torch.cat(list(template_masks)))
        chunks = {k: v.chunk(count) for k, v in feats.items()}
        template_feats = [{k: chunks[k][i] for k in chunks} for i in range(count)]
        search_feat = self.forward_backbone(search_img, search_mask)
        return self.forward_head(template_feats, search_feat, run_box_head, run_score_head)

    # ------------------------------------------------------------------ training stages

    def stage_parameters(self, stage: int) -> dict[str, nn.Parameter]:
        """Parameters trained in a stage: 1 = all trainable but the score head, 2 = score head only.

        Parts frozen at construction (backbone conv1/layer1, frozen BN) are never included.
        """
        if stage not in (1, 2):
            raise ValueError(f"training stage must be 1 or 2, got {stage}")
        return {n: p for n, p in self.named_parameters()
                if n in self._trainable and n.startswith(SCORE_HEAD_PREFIXES) == (stage == 2)}

    def freeze_for_stage(self, stage: int) -> None:
        """Set ``requires_grad`` so only :meth:`stage_parameters` of ``stage`` get gradients."""
        chosen = self.stage_parameters(stage)
        for name, p in self.named_parameters():
            p.requires_grad_(name in chosen)


@NETWORKS.register("bit")
def bit(**kwargs: Any) -> BitNet:
    """Registry constructor: plain kwargs = the fields of :class:`BitModelConfig`."""
    return BitNet(BitModelConfig(**kwargs))


def bit_kwargs(cfg: BitModelConfig) -> dict[str, Any]:
    """Plain constructor kwargs of a config (what checkpoints store as the network kwargs)."""
    return to_dict(cfg)
