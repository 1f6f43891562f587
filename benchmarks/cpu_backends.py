"""CPU backends for every exported graph: ``python benchmarks/cpu_backends.py``.

Which backend should run the networks on a CPU? For JCAT (features graph on a segmentation crop,
segmentation head with a 2-sample memory) and BIT (backbone on the search crop, head with 2
templates), at the tiny configs and at full size (JCAT ResNet-50 / 384 crop, BIT-101 128/320
crops), each graph is timed on the same inputs with the same thread count as:

* ``plain``: PyTorch eager, the network as trained;
* ``fast``: PyTorch eager with the inference fast paths the trackers load with on a CPU
  (:mod:`ltr.models.inference`: BatchNorm folded, channels_last inputs);
* ``compile``: ``torch.compile`` (inductor) of the fast module; its compile time is printed;
* ``onnxrt``: the graph exported to ONNX (from the plain network) in an ONNX Runtime session.

Random weights (speed does not depend on them). Per graph it prints calls/s for each backend,
each one's speed relative to ``fast`` (the trackers' default) and the largest output difference
to ``plain`` relative to the output's max |value| (absolute below 1; random-init ResNet-101
features reach ~1e4). ``--backends`` picks a subset (compiling takes minutes).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # thread policy (ltr/admin/threads.py): idle OpenMP threads sleep; set before torch loads
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ltr.admin.threads import prefer_passive_waiting

    prefer_passive_waiting()

import argparse
import copy
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from ltr.admin.threads import add_threads_argument, set_threads
from ltr.export.common import Graph, export_graph, session, torch_outputs
from ltr.models.inference import default_paths, optimize_for_inference
from ltr.models.registry import NETWORKS

BACKENDS = ("plain", "fast", "compile", "onnxrt")

CONFIGS = {
    "jcat-tiny": ("jcat", dict(backbone="resnet18"), 128),
    "jcat-full": ("jcat", dict(backbone="resnet50"), 384),
    "bit-tiny": ("bit", dict(backbone="resnet18", d_model=64, nheads=4, dim_feedforward=256, enc_layers=3,
                             mdai_levels=(1, 2, 3), head_channels=64, template_size=64, search_size=128,
                             backbone_stride=8, dropout=0.0), None),
    "bit-101": ("bit", dict(backbone="resnet101"), None),
}


def graphs(net: torch.nn.Module, network: str, crop: int | None) -> list[Graph]:
    """The exported graphs of ``net`` with example inputs (BIT's backbone on the search crop)."""
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


def relative_difference(outputs, reference: list[np.ndarray]) -> float:
    """Largest |a − b| over the outputs (tensors or arrays), relative to max(1, max |b|)."""
    arrays = [o.detach().float().numpy() if isinstance(o, torch.Tensor) else np.asarray(o) for o in outputs]
    return max(float(np.max(np.abs(a.astype(np.float64) - b)) / max(1.0, float(np.max(np.abs(b)))))
               for a, b in zip(arrays, reference))


def torch_call(graph: Graph, memory_format: torch.memory_format):
    """A no-grad call of ``graph.module`` on its inputs (4-D images in ``memory_format``)."""
    inputs = [v.contiguous(memory_format=memory_format) if v.dim() == 4 and v.is_floating_point() else v
              for v in graph.inputs.values()]

    def call():
        with torch.no_grad():
            out = graph.module(*inputs)
        return out if isinstance(out, (tuple, list)) else [out]
    return call


def bench(name: str, backends: list[str], seconds: float, threads: int, folder: Path) -> list[tuple]:
    """(config, graph, first input shape, {backend: (calls/s, rel. diff, note)}) per graph."""
    network, kwargs, crop = CONFIGS[name]
    torch.manual_seed(0)
    plain_net = NETWORKS.build(network, **kwargs).eval()
    paths = default_paths()
    fast_net = optimize_for_inference(copy.deepcopy(plain_net), paths)
    rows = []
    for plain, fast in zip(graphs(plain_net, network, crop), graphs(fast_net, network, crop)):
        reference = torch_outputs(plain.module, plain.inputs)
        results = {}
        for backend in backends:
            note = ""
            if backend == "plain":
                call = torch_call(plain, torch.contiguous_format)
            elif backend in ("fast", "compile"):
                call = torch_call(fast, paths.memory_format)
                if backend == "compile":
                    compiled = torch.compile(fast.module)
                    call = torch_call(Graph(fast.name, compiled, fast.inputs, fast.outputs, fast.dynamic_axes),
                                      paths.memory_format)
                    start = time.perf_counter()
                    call()
                    note = f"compile {time.perf_counter() - start:.0f}s"
            else:
                sess = session(export_graph(plain, folder / name), threads)
                kept = {i.name for i in sess.get_inputs()}
                feeds = {k: v.numpy() for k, v in plain.inputs.items() if k in kept}

                def call(sess=sess, feeds=feeds, outputs=plain.outputs):
                    return sess.run(outputs, feeds)
            diff = relative_difference(call(), reference)
            results[backend] = (rate(call, seconds), diff, note)
        shapes = "x".join(map(str, list(plain.inputs.values())[0].shape))
        rows.append((name, plain.name, shapes, results))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--seconds", type=float, default=2.0, help="timing window per graph and backend")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    args.threads = set_threads(args.threads)
    print(f"CPU, {args.threads} threads, torch {torch.__version__}, batch 1; "
          "per backend: calls/s (speed relative to fast) [max rel. diff to plain]")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.configs:
            for config, graph, shape, results in bench(name, args.backends, args.seconds, args.threads, Path(tmp)):
                base = results.get("fast", (None,))[0]
                cells = []
                for backend, (calls, diff, note) in results.items():
                    ratio = f" ({calls / base:.2f}x)" if base else ""
                    cells.append(f"{backend} {calls:.2f}/s{ratio} [{diff:.1e}]{' ' + note if note else ''}")
                print(f"{config:9s} {graph:14s} {shape:14s} " + "; ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
