"""BIT as two ONNX graphs: ``bit_backbone`` (crop + padding mask -> feature dict, run once per
template and once per search crop; dynamic crop size) and ``bit_head`` (cached template features +
search features -> box and score; encoder, MDAI, CTIF and heads).

A head graph (``bit_head_t<T>``) takes a fixed number of templates ``T`` (the tracker's initial +
dynamic slots; one graph per count used) with inputs ``template{i}_{key}`` and ``search_{key}`` for the feature keys
below; inputs the network does not read (e.g. template ``raw`` maps) are dropped by the exporter,
so callers feed only the names the session lists.
"""
from __future__ import annotations

import torch
from torch import nn

from ltr.export.common import Graph
from ltr.models.bit.network import BitNet

HEAD_OUTPUTS = ["pred_boxes", "pred_boxes_xyxy", "score_logits", "score_map_tl", "score_map_br"]  # maps: motion_window


def feature_keys(net: BitNet) -> list[str]:
    """The keys of ``forward_backbone``'s dict, in graph output order."""
    return ["feat", "raw", "mask", "pos"] + (["tokens"] if net.vit is not None else [])


class BitBackbone(nn.Module):
    """``BitNet.forward_backbone`` returning a tuple in :func:`feature_keys` order (inputs ``image``,
    ``image_mask``: the padding mask, named apart from the ``mask`` output)."""

    def __init__(self, net: BitNet) -> None:
        super().__init__()
        self.net = net
        self.keys = feature_keys(net)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.net.forward_backbone(image, mask)
        return tuple(out[k] for k in self.keys)


class BitHead(nn.Module):
    """``BitNet.forward_head(..., run_score_head=True)`` with flat tensor inputs."""

    def __init__(self, net: BitNet, num_templates: int) -> None:
        super().__init__()
        self.net = net
        self.keys = feature_keys(net)
        self.num_templates = num_templates

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        k = len(self.keys)
        crops = [dict(zip(self.keys, tensors[i * k:(i + 1) * k])) for i in range(self.num_templates + 1)]
        out = self.net.forward_head(crops[:-1], crops[-1], run_box_head=True, run_score_head=True)
        return tuple(out[name] for name in HEAD_OUTPUTS)


def head_input_names(net: BitNet, num_templates: int) -> list[str]:
    keys = feature_keys(net)
    return [f"template{i}_{k}" for i in range(num_templates) for k in keys] + [f"search_{k}" for k in keys]


def example_crop(net: BitNet, size: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A random crop and its padding mask (a few padded columns on the right, as at an image border)."""
    mask = torch.zeros(1, size, size, dtype=torch.bool)
    mask[:, :, size - size // 8:] = True
    return torch.randn(1, 3, size, size, generator=gen), mask


def head_graph_name(num_templates: int) -> str:
    return f"bit_head_t{num_templates}"


def bit_graphs(net: BitNet, template_counts: tuple[int, ...] = (2,), seed: int = 0) -> list[Graph]:
    """The backbone graph and one head graph per template count; examples at the network's crop sizes."""
    net = net.eval()
    gen = torch.Generator().manual_seed(seed)
    keys = feature_keys(net)
    template = example_crop(net, net.cfg.template_size, gen)
    search = example_crop(net, net.cfg.search_size, gen)
    backbone = BitBackbone(net)
    with torch.no_grad():
        templates = [backbone(*example_crop(net, net.cfg.template_size, gen)) for _ in range(max(template_counts))]
        search_feats = backbone(*search)
    spatial = {0: "batch", 2: "height", 3: "width"}
    backbone_axes = {"image": spatial, "image_mask": {0: "batch", 1: "height", 2: "width"}}
    for key in keys:
        backbone_axes[key] = ({0: "batch", 1: "feat_height", 2: "feat_width"} if key == "mask"
                              else {0: "batch", 1: "tokens"} if key == "tokens"
                              else {0: "batch", 2: "feat_height", 3: "feat_width"})
    graphs = [Graph("bit_backbone", backbone, {"image": template[0], "image_mask": template[1]}, keys, backbone_axes)]
    for count in sorted(set(template_counts)):
        names = head_input_names(net, count)
        values = [t for feats in templates[:count] for t in feats] + list(search_feats)
        axes = {name: {0: "batch"} for name in names + HEAD_OUTPUTS}
        graphs.append(Graph(head_graph_name(count), BitHead(net, count), dict(zip(names, values)), HEAD_OUTPUTS, axes))
    return graphs
