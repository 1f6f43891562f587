"""Prediction heads: STARK's corner box predictor (soft-argmax) and its MLP score head.

Names match STARK (``conv1_tl.0.weight`` ..., ``layers.0.weight``) so ``box_head.*`` and
``cls_head.*`` weights load directly; the coordinate grids are non-persistent buffers.
"""
from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import box_convert


def conv_bn_relu(in_planes: int, out_planes: int, kernel_size: int = 3) -> nn.Sequential:
    """Conv (with bias) + trainable BatchNorm + ReLU, keys ``0.*`` (conv) and ``1.*`` (BN)."""
    return nn.Sequential(
        nn.Conv2d(in_planes, out_planes, kernel_size, padding=kernel_size // 2, bias=True),
        nn.BatchNorm2d(out_planes),
        nn.ReLU(inplace=True),
    )


class CornerPredictor(nn.Module):
    """Two conv towers score every cell as top-left / bottom-right corner; soft-argmax gives the box.

    Coordinates are ``cell index · stride`` (no half-cell offset, as STARK) divided by the crop
    size, so the output box is normalised to the search crop.
    """

    def __init__(self, inplanes: int = 256, channel: int = 256, feat_sz: int = 20, stride: int = 16) -> None:
        super().__init__()
        self.feat_sz = feat_sz
        self.stride = stride
        self.img_sz = feat_sz * stride
        widths = [inplanes, channel, channel // 2, channel // 4, channel // 8]
        for corner in ("tl", "br"):
            for i in range(4):
                setattr(self, f"conv{i + 1}_{corner}", conv_bn_relu(widths[i], widths[i + 1]))
            setattr(self, f"conv5_{corner}", nn.Conv2d(widths[4], 1, kernel_size=1))
        ys, xs = torch.meshgrid(torch.arange(feat_sz), torch.arange(feat_sz), indexing="ij")
        self.register_buffer("coord_x", (xs.reshape(-1) * stride).float(), persistent=False)
        self.register_buffer("coord_y", (ys.reshape(-1) * stride).float(), persistent=False)

    def _score_map(self, x: torch.Tensor, corner: str) -> torch.Tensor:
        for i in range(1, 6):
            x = getattr(self, f"conv{i}_{corner}")(x)
        return x

    def soft_argmax(self, score_map: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Expected (x, y) in crop pixels under the softmax of a (B, 1, H, W) score map."""
        prob = torch.softmax(score_map.flatten(1).float(), dim=1)  # fp32 even under autocast
        return (prob * self.coord_x).sum(dim=1), (prob * self.coord_y).sum(dim=1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x``: (B, inplanes, feat_sz, feat_sz). Returns ``boxes`` (B, 4) normalised cxcywh,
        ``boxes_xyxy`` and the raw corner maps ``score_map_tl``/``score_map_br`` (B, 1, H, W)."""
        if x.shape[-2:] != (self.feat_sz, self.feat_sz):
            raise ValueError(f"box head built for {self.feat_sz}x{self.feat_sz} maps, got {tuple(x.shape[-2:])}")
        tl, br = self._score_map(x, "tl"), self._score_map(x, "br")
        x_tl, y_tl = self.soft_argmax(tl)
        x_br, y_br = self.soft_argmax(br)
        xyxy = torch.stack((x_tl, y_tl, x_br, y_br), dim=1) / self.img_sz
        return {"boxes": box_convert(xyxy, "xyxy", "cxcywh"), "boxes_xyxy": xyxy,
                "score_map_tl": tl, "score_map_br": br}


class MLP(nn.Module):
    """Plain MLP with ReLU between layers (STARK ``MLP``; weights under ``layers.{i}``)."""

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, num_layers: int) -> None:
        super().__init__()
        dims = [input_dim] + [hidden_dim] * (num_layers - 1) + [output_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the layers; ReLU after all but the last."""
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x
