"""Exported graphs behind the torch networks' tracking methods (CPU onnxruntime sessions).

Tensors go in and come out as CPU float torch tensors, so tracker code is unchanged; ``to`` and
``eval`` are accepted and ignored (the graphs run on the CPU execution provider).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ltr.export.common import session

MANIFEST = "manifest.json"
FeatureDict = dict[str, torch.Tensor]


def export_folder(path: str | Path) -> Path:
    """The export folder of ``path``: the folder itself, or the folder of its ``manifest.json``
    (a file path passes the checkpoint checks of the tracker wrappers)."""
    path = Path(path)
    return path.parent if path.name == MANIFEST else path


def is_onnx_export(path: str | Path | None) -> bool:
    """True for an ONNX export folder or its ``manifest.json``."""
    return path is not None and (export_folder(path) / MANIFEST).is_file()


class _OnnxNet:
    """Sessions of every graph in an export folder, and the manifest."""

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        self.folder = export_folder(folder)
        if not is_onnx_export(self.folder):
            raise FileNotFoundError(f"{self.folder}: no {MANIFEST}; export with python -m ltr.export.onnx")
        self.manifest = json.loads((self.folder / MANIFEST).read_text())
        self.sessions = {name: session(self.folder / g["file"], threads) for name, g in self.manifest["graphs"].items()}
        self._inputs = {name: {i.name for i in s.get_inputs()} for name, s in self.sessions.items()}

    def run(self, graph: str, feeds: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Run one graph on the feeds it kept (the exporter drops unused inputs); outputs by name."""
        if graph not in self.sessions:
            raise KeyError(f"{self.folder}: no graph '{graph}' (has {', '.join(self.sessions)})")
        outputs = self.manifest["graphs"][graph]["outputs"]
        arrays = {k: _numpy(v) for k, v in feeds.items() if k in self._inputs[graph]}
        return {name: torch.from_numpy(a) for name, a in zip(outputs, self.sessions[graph].run(outputs, arrays))}

    def to(self, *args: Any, **kwargs: Any) -> "_OnnxNet":
        return self

    def eval(self) -> "_OnnxNet":
        return self


def _numpy(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    return t.numpy() if t.dtype == torch.bool else t.float().numpy()


class OnnxJcatNet(_OnnxNet):
    """``JcatNet``'s tracking API on the ``jcat_features`` / ``jcat_segment`` graphs."""

    def extract_features(self, image: torch.Tensor) -> FeatureDict:
        return self.run("jcat_features", {"image": image})

    def segment(self, test_feats: FeatureDict, train_feats: FeatureDict, train_mask: torch.Tensor,
                dist_map: torch.Tensor,
                memory: Sequence[tuple[FeatureDict, torch.Tensor]] | None = None) -> torch.Tensor:
        layer3 = train_feats["layer3"]
        train_mask = _as_map(train_mask)
        memory = list(memory or ())
        if memory:
            mem_l3 = torch.cat([feats["layer3"] for feats, _ in memory])
            mem_mask = torch.cat([_as_map(mask) for _, mask in memory])
        else:
            mem_l3 = layer3.new_zeros((0, *layer3.shape[1:]))
            mem_mask = train_mask.new_zeros((0, *train_mask.shape[1:]))
        feeds = {f"test_{k}": test_feats[k] for k in ("conv1", "layer1", "layer2", "layer3")}
        feeds.update(train_layer3=layer3, train_mask=train_mask, dist_map=_as_map(dist_map), memory_layer3=mem_l3,
                     memory_mask=mem_mask)
        return self.run("jcat_segment", feeds)["logits"]

    # The graph takes the samples themselves: "prepared" ones are kept as they are.
    def prepare_reference(self, train_feats: FeatureDict, train_mask: torch.Tensor) -> tuple[FeatureDict, torch.Tensor]:
        return train_feats, train_mask

    def prepare_memory(self, feats: FeatureDict, mask: torch.Tensor) -> tuple[FeatureDict, torch.Tensor]:
        return feats, mask

    def segment_prepared(self, test_feats: FeatureDict, reference: tuple[FeatureDict, torch.Tensor],
                         dist_map: torch.Tensor, memory: Sequence[tuple[FeatureDict, torch.Tensor]] = ()) -> torch.Tensor:
        return self.segment(test_feats, *reference, dist_map, memory)


def _as_map(x: torch.Tensor) -> torch.Tensor:
    """(B, H, W) -> (B, 1, H, W) float."""
    return (x.unsqueeze(1) if x.dim() == 3 else x).float()


class OnnxBitNet(_OnnxNet):
    """``BitNet``'s tracking API on the ``bit_backbone`` / ``bit_head_t<T>`` graphs; ``cfg`` from the manifest."""

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        super().__init__(folder, threads)
        from ltr.models.bit.config import BitModelConfig

        self.cfg = BitModelConfig(**self.manifest["kwargs"])
        self.keys = self.manifest["graphs"]["bit_backbone"]["outputs"]

    def forward_backbone(self, images: torch.Tensor, masks: torch.Tensor) -> FeatureDict:
        out = self.run("bit_backbone", {"image": images, "image_mask": masks.bool()})
        out["mask"] = out["mask"].bool()
        return out

    def forward_head(self, template_feats: Sequence[FeatureDict], search_feat: FeatureDict,
                     run_box_head: bool = True, run_score_head: bool = False) -> dict[str, torch.Tensor]:
        """Box and score (both always computed by the graph; the flags are accepted for compatibility)."""
        feeds = {f"template{i}_{k}": feats[k]
                 for i, feats in enumerate(template_feats) for k in self.keys if k in feats}
        feeds.update({f"search_{k}": search_feat[k] for k in self.keys if k in search_feat})
        return self.run(f"bit_head_t{len(template_feats)}", feeds)


def load_onnx_network(folder: str | Path, threads: int | None = None) -> OnnxJcatNet | OnnxBitNet:
    """The wrapper matching the exported network of ``folder`` (or its ``manifest.json``)."""
    if not is_onnx_export(folder):
        raise FileNotFoundError(f"{folder}: no {MANIFEST}; export with python -m ltr.export.onnx")
    network = json.loads((export_folder(folder) / MANIFEST).read_text())["network"]
    classes = {"jcat": OnnxJcatNet, "bit": OnnxBitNet}
    if network not in classes:
        raise ValueError(f"{folder}: no onnxruntime wrapper for network '{network}'")
    return classes[network](folder, threads)
