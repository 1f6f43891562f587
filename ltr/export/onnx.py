"""Export a tracking network to ONNX: ``python -m ltr.export.onnx <jcat|bit> [--checkpoint P] [--config C] --out DIR``.

The network comes from ``--checkpoint`` (a project checkpoint), else from the tracker config
``experiments/<network>/<config>.yaml`` (its ``tracking.checkpoint`` when set, otherwise its
``model:`` section with random weights). Writes one ``.onnx`` per graph (JCAT:
``jcat_features``, ``jcat_segment``; BIT: ``bit_backbone``, ``bit_head_t<T>``), checks each against
PyTorch with onnxruntime and records everything in ``DIR/manifest.json``: network name and
kwargs, the sha256 of the checkpoint file and of the weights themselves, graphs with their files'
sha256, inputs/outputs, the max abs differences and output scales. Exit status 1
when a difference, relative to its output's scale (when above 1), exceeds ``--tolerance``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ltr.admin.atomic import atomic_write_text
from ltr.models.backbone.pretrained import without_pretrained
from ltr.admin.checkpoint import build_network_from_checkpoint, load_checkpoint
from ltr.admin.convert import sha256_file
from ltr.config.loader import to_dict
from ltr.export.common import MAX_OPSET, OPSET, Graph, export_graph, parity, relative_error
from ltr.models.registry import NETWORKS

logger = logging.getLogger(__name__)
MANIFEST = "manifest.json"
EXPORTABLE = ("jcat", "bit")


def resolve_network(network: str, checkpoint: str | None, config: str | None) -> tuple[nn.Module, dict[str, Any], Any]:
    """``(net, constructor kwargs, tracker params or None)`` from a checkpoint or a tracker config."""
    params = None
    if config is not None:
        from pytracking.tracker.base import TRACKERS
        from pytracking.tracker.base.network import resolve_checkpoint

        tracker_cls = TRACKERS.get(network)
        params = tracker_cls.load_params(network, config)
        named = tracker_cls.params_checkpoint(params)
        if checkpoint is None and named:
            checkpoint = str(resolve_checkpoint(named))  # relative YAML paths: from the repository root
    if checkpoint is not None:
        spec = load_checkpoint(checkpoint)["network"]
        if spec["name"] != network:
            raise ValueError(f"{checkpoint}: holds a '{spec['name']}' network, not '{network}'")
        return build_network_from_checkpoint(checkpoint).eval(), dict(spec["kwargs"]), params
    if params is None:
        raise ValueError("give --checkpoint or --config (a random-weight export needs the config's model section)")
    kwargs = without_pretrained(to_dict(params.model))  # a random-weight export: nothing to download
    return NETWORKS.build(network, **kwargs).eval(), kwargs, params


def state_dict_sha256(net: nn.Module) -> str:
    """Hex sha256 of a net's weights: every state_dict entry's name, dtype, shape and bytes, in key
    order (independent of how the checkpoint file was written)."""
    digest = hashlib.sha256()
    for key, tensor in sorted(net.state_dict().items()):
        shape = tensor.shape
        tensor = tensor.detach().cpu().contiguous().reshape(-1)  # 0-dim (num_batches_tracked) too
        digest.update(f"{key}|{tensor.dtype}|{tuple(shape)}|".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def template_counts(params: Any) -> tuple[int, ...]:
    """BIT: 1 + number of update intervals, for every benchmark the config names (default: 2)."""
    intervals = getattr(getattr(params, "tracking", None), "update_intervals", None)
    return tuple(sorted({1 + len(v) for v in intervals.values()})) if intervals else (2,)


def graphs_for(network: str, net: nn.Module, params: Any, crop: int | None) -> list[Graph]:
    if network == "jcat":
        from ltr.export.jcat import jcat_graphs

        size = crop if crop is not None else (params.tracking.segmentation.output_size if params is not None else 128)
        return jcat_graphs(net, size)
    if network == "bit":
        from ltr.export.bit import bit_graphs

        return bit_graphs(net, template_counts(params))
    raise ValueError(f"cannot export network '{network}'; exportable: {', '.join(EXPORTABLE)}")


def export(network: str, out: Path, checkpoint: str | None = None, config: str | None = None,
           crop: int | None = None, opset: int = OPSET) -> dict[str, Any]:
    """Export every graph of ``network`` to ``out``, check parity, write and return the manifest."""
    net, kwargs, params = resolve_network(network, checkpoint, config)
    manifest: dict[str, Any] = {"network": network, "kwargs": kwargs, "checkpoint": checkpoint, "config": config,
                                "checkpoint_sha256": sha256_file(Path(checkpoint)) if checkpoint else None,
                                "weights_sha256": state_dict_sha256(net), "opset": opset, "graphs": {}}
    for graph in graphs_for(network, net, params, crop):
        path = export_graph(graph, out, opset)
        stats = parity(path, graph.module, graph.inputs, graph.outputs)
        manifest["graphs"][graph.name] = {
            "file": path.name, "sha256": sha256_file(path), "inputs": list(graph.inputs), "outputs": graph.outputs,
            "max_abs_diff": {k: v["max_abs_diff"] for k, v in stats.items()},
            "max_abs_ref": {k: v["max_abs_ref"] for k, v in stats.items()},
            "relative_error": max(relative_error(v) for v in stats.values())}
        logger.info("%s: %s, max abs difference vs PyTorch %.3g", graph.name, path,
                    max(v["max_abs_diff"] for v in stats.values()))
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2, default=str))
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", choices=EXPORTABLE)
    parser.add_argument("--checkpoint", help="project checkpoint of the network")
    parser.add_argument("--config", help="tracker config (experiments/<network>/<config>.yaml) for the network")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--crop", type=int, help="JCAT: example crop side (graphs accept any size)")
    parser.add_argument("--opset", type=int, default=OPSET)
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="max difference accepted, relative to each output's max |value| when that is above 1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not OPSET <= args.opset <= MAX_OPSET:
        parser.error(f"--opset must be between {OPSET} and {MAX_OPSET}")
    if not 0 <= args.tolerance < float("inf"):
        parser.error("--tolerance must be a finite number >= 0")
    if args.crop is not None and args.crop < 1:
        parser.error("--crop must be a positive side in pixels")
    manifest = export(args.network, args.out, args.checkpoint, args.config, args.crop, args.opset)
    worst = max(g["relative_error"] for g in manifest["graphs"].values())
    for name, graph in manifest["graphs"].items():
        print(f"{name:16s} {graph['file']:22s} max abs diff {max(graph['max_abs_diff'].values()):.3g} "
              f"(relative {graph['relative_error']:.3g})")
    if not worst <= args.tolerance:  # a NaN difference fails too
        print(f"error: difference {worst:.3g} (relative) exceeds --tolerance {args.tolerance}", file=sys.stderr)
        return 1
    return 0


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
