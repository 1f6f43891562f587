"""Shared export steps: TorchScript-based ``torch.onnx.export`` of one graph, and its onnxruntime parity check.

torch 2.14's default (dynamo) exporter needs ``onnxscript``; the TorchScript exporter
(``dynamo=False``) needs nothing beyond torch and handles both networks, so it is used here.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

OPSET = 17
MAX_OPSET = 20
"""The newest opset torch's TorchScript exporter writes (``torch.onnx._constants``)."""


@dataclass
class Graph:
    """One exported graph: its file, input and output names, dynamic axes and example inputs."""

    name: str
    module: nn.Module
    inputs: dict[str, torch.Tensor]
    outputs: list[str]
    dynamic_axes: dict[str, dict[int, str]] = field(default_factory=dict)

    def filename(self) -> str:
        return f"{self.name}.onnx"


def export_graph(graph: Graph, out_dir: Path, opset: int = OPSET) -> Path:
    """Write ``graph`` to ``out_dir/<name>.onnx`` (weights inside the file) and check it with ``onnx.checker``."""
    import onnx

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / graph.filename()
    tmp = path.with_name(f".{path.name}.tmp")
    graph.module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings on shape arithmetic; parity is checked below
        torch.onnx.export(graph.module, tuple(graph.inputs.values()), str(tmp), dynamo=False, opset_version=opset,
                          input_names=list(graph.inputs), output_names=graph.outputs,
                          dynamic_axes={**graph.dynamic_axes}, do_constant_folding=True)
    onnx.checker.check_model(str(tmp))
    tmp.replace(path)
    return path


# onnxruntime keeps its idle pool threads spinning by default; in a process that also runs torch
# (the trackers do) and on a shared CPU that spinning steals the cores the other work needs.
NO_SPINNING = {"session.intra_op.allow_spinning": "0", "session.inter_op.allow_spinning": "0"}


def session(path: Path, threads: int | None = None) -> Any:
    """A CPU onnxruntime session (``threads``: intra-op threads, None = onnxruntime's default)
    whose idle threads sleep instead of spinning (:data:`NO_SPINNING`)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    for key, value in NO_SPINNING.items():
        options.add_session_config_entry(key, value)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def torch_outputs(module: nn.Module, inputs: Mapping[str, torch.Tensor]) -> list[np.ndarray]:
    with torch.no_grad():
        out = module(*inputs.values())
    out = out if isinstance(out, (tuple, list)) else (out,)
    return [o.detach().float().numpy() for o in out]


def parity(path: Path, module: nn.Module, inputs: Mapping[str, torch.Tensor],
           output_names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per output: ``max_abs_diff`` = max |onnxruntime - PyTorch| on ``inputs`` and ``max_abs_ref`` =
    max |PyTorch| (the scale the difference is relative to: random-init deep nets reach 1e4)."""
    sess = session(path)
    kept = {i.name for i in sess.get_inputs()}
    ort_out = sess.run(list(output_names), {k: v.numpy() for k, v in inputs.items() if k in kept})
    return {name: {"max_abs_diff": float(np.max(np.abs(a.astype(np.float64) - b))) if a.size else 0.0,
                   "max_abs_ref": float(np.max(np.abs(b))) if b.size else 0.0}
            for name, a, b in zip(output_names, ort_out, torch_outputs(module, inputs))}


def max_abs_difference(path: Path, module: nn.Module, inputs: Mapping[str, torch.Tensor],
                       output_names: Sequence[str]) -> dict[str, float]:
    """Per output: max |onnxruntime - PyTorch| on ``inputs`` (the graph gets the inputs it kept)."""
    return {name: v["max_abs_diff"] for name, v in parity(path, module, inputs, output_names).items()}


def relative_error(stats: Mapping[str, float]) -> float:
    """max abs difference relative to the output's scale (absolute below 1)."""
    return stats["max_abs_diff"] / max(1.0, stats["max_abs_ref"])
