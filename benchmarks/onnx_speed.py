"""CPU speed of PyTorch eager vs onnxruntime for every exported graph: ``python benchmarks/onnx_speed.py``.

For JCAT (features graph on a segmentation crop, segmentation head with a 2-sample memory) and BIT
(backbone on the search crop, head with 2 templates), at the tiny configs and at full size
(JCAT ResNet-50 / 384 crop, BIT-101 128/320 crops), the graphs are exported to a temporary folder
(random weights: speed does not depend on them) and each is timed on the same inputs with the same
thread count. Prints one row per graph: calls/s for both backends, the speed-up and the max abs
difference relative to the output's max |value| (absolute below 1; random-init ResNet-101
features reach ~1e4, so absolute float32 differences there are ~1e-2).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # thread policy (ltr/admin/threads.py): idle OpenMP threads sleep; set before torch loads
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ltr.admin.threads import prefer_passive_waiting

    prefer_passive_waiting()

import argparse
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from ltr.admin.threads import add_threads_argument, set_threads
from ltr.export.common import Graph, export_graph, session, torch_outputs
from ltr.models.registry import NETWORKS

CONFIGS = {
    "jcat-tiny": ("jcat", dict(backbone="resnet18"), 128),
    "jcat-full": ("jcat", dict(backbone="resnet50"), 384),
    "bit-tiny": ("bit", dict(backbone="resnet18", d_model=64, nheads=4, dim_feedforward=256, enc_layers=3,
                             mdai_levels=(1, 2, 3), head_channels=64, template_size=64, search_size=128), None),
    "bit-101": ("bit", dict(backbone="resnet101"), None),
}


def graphs(network: str, kwargs: dict, crop: int | None) -> list[Graph]:
    net = NETWORKS.build(network, **kwargs).eval()
    if network == "jcat":
        from ltr.export.jcat import jcat_graphs

        return jcat_graphs(net, crop)
    from ltr.export.bit import BitBackbone, bit_graphs, example_crop

    out = bit_graphs(net, (2,))
    image, mask = example_crop(net, net.cfg.search_size, torch.Generator().manual_seed(0))
    out[0] = Graph(out[0].name, BitBackbone(net), {"image": image, "image_mask": mask}, out[0].outputs,
                   out[0].dynamic_axes)  # export with the search crop: the per-frame call
    return out


def rate(call, seconds: float, warmup: int = 2) -> float:
    """Calls per second over at least ``seconds`` (after ``warmup`` calls)."""
    for _ in range(warmup):
        call()
    count, start = 0, time.perf_counter()
    while count < 3 or time.perf_counter() - start < seconds:
        call()
        count += 1
    return count / (time.perf_counter() - start)


def bench(name: str, seconds: float, threads: int, folder: Path) -> list[tuple]:
    network, kwargs, crop = CONFIGS[name]
    rows = []
    for graph in graphs(network, kwargs, crop):
        path = export_graph(graph, folder / name)
        sess = session(path, threads)
        kept = {i.name for i in sess.get_inputs()}
        feeds = {k: v.numpy() for k, v in graph.inputs.items() if k in kept}
        ort_out = sess.run(graph.outputs, feeds)
        diff = max(float(np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b))))
                   for a, b in zip(ort_out, torch_outputs(graph.module, graph.inputs)))
        with torch.no_grad():
            eager = rate(lambda: graph.module(*graph.inputs.values()), seconds)
        ort_rate = rate(lambda: sess.run(graph.outputs, feeds), seconds)
        shapes = " ".join("x".join(map(str, v.shape)) for v in list(graph.inputs.values())[:1])
        rows.append((name, graph.name, shapes, eager, ort_rate, diff))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--seconds", type=float, default=2.0, help="timing window per graph and backend")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    args.threads = set_threads(args.threads)
    print(f"CPU, {args.threads} threads, torch {torch.__version__}, batch 1")
    print(f"{'config':10s} {'graph':14s} {'first input':14s} {'eager /s':>9s} {'onnxrt /s':>9s} {'speed-up':>8s} "
          f"{'rel.diff':>9s}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.configs:
            for config, graph, shape, eager, ort_rate, diff in bench(name, args.seconds, args.threads, Path(tmp)):
                print(f"{config:10s} {graph:14s} {shape:14s} {eager:9.2f} {ort_rate:9.2f} {ort_rate / eager:7.2f}x "
                      f"{diff:9.2e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
