"""GPU speed of the tracking networks and of BIT training: ``python benchmarks/gpu_speed.py``.

Per-frame network work at batch 1 (random weights; speed does not depend on them):

* BIT-101 and BIT-50: ``forward_backbone`` on the search crop + ``forward_head`` with two cached
  templates and the score head (what the online tracker runs per frame);
* JCAT (ResNet-50): ``extract_features`` on the segmentation crop + ``segment`` against the
  reference with a 2-sample memory bank (the correlation filter's own work is not included).

Each is timed in fp32, with AMP (bf16 and fp16 autocast), with ``torch.compile`` (fp32 and bf16)
and with a captured CUDA graph (fp32 and bf16), using CUDA events after warm-up. BIT-101's fp32
eager frames/s is compared with the paper's 25 FPS (a different GPU; the comparison says so).
Networks run with the inference paths the trackers load them with (``fold_bn+channels_last``,
``ltr/models/inference.py``); ``--paths plain fold_bn fold_bn+channels_last`` adds rows for the
plain network and for BatchNorm folding alone, to see what each path is worth on this GPU.
Finally: training iterations/s of ``bit/default`` stage 1 (box objective) with bf16 AMP on
synthetic batches already on the GPU (data loading excluded), at the config's batch size.

Exits with status 0 and a message when no CUDA device is present.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from ltr.admin.cli_args import positive_int
from ltr.models.inference import PLAIN, InferencePaths, default_paths, describe, optimize_for_inference
from pytracking.tracker.base.cuda_graph import CapturedCall

PAPER_FPS_BIT101 = 25.0
MODES = ("fp32", "amp-bf16", "amp-fp16", "compile-fp32", "compile-bf16", "cudagraph-fp32", "cudagraph-bf16")


def autocast(dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    return torch.autocast("cuda", dtype=dtype) if dtype is not None else contextlib.nullcontext()


def mode_dtype(mode: str) -> torch.dtype | None:
    return torch.bfloat16 if mode.endswith("bf16") else torch.float16 if mode.endswith("fp16") else None


def image(size: int, paths: InferencePaths) -> torch.Tensor:
    """A random 1x3xSxS crop on the GPU in the memory format ``paths`` give the network's inputs."""
    return torch.randn(1, 3, size, size, device="cuda").contiguous(memory_format=paths.memory_format)


def bit_step(backbone: str, paths: InferencePaths) -> Callable[[], Any]:
    """BIT per-frame step with two cached templates (inputs stay at fixed addresses for CUDA graphs)."""
    from ltr.models.registry import NETWORKS

    net = optimize_for_inference(NETWORKS.build("bit", backbone=backbone).cuda(), paths)
    cfg = net.cfg
    with torch.no_grad():
        templates = [net.forward_backbone(image(cfg.template_size, paths),
                                          torch.zeros(1, cfg.template_size, cfg.template_size, dtype=torch.bool,
                                                      device="cuda")) for _ in range(2)]
    search_image = image(cfg.search_size, paths)
    mask = torch.zeros(1, cfg.search_size, cfg.search_size, dtype=torch.bool, device="cuda")

    def step() -> Any:
        search = net.forward_backbone(search_image, mask)
        return net.forward_head(templates, search, run_box_head=True, run_score_head=True)

    return step


def jcat_step(paths: InferencePaths, crop: int = 384) -> Callable[[], Any]:
    """JCAT per-frame segmentation step with a 2-sample memory bank."""
    from ltr.models.registry import NETWORKS

    net = optimize_for_inference(NETWORKS.build("jcat", backbone="resnet50").cuda(), paths)
    with torch.no_grad():
        ref = net.extract_features(image(crop, paths))
    ref_mask = (torch.rand(1, crop, crop, device="cuda") > 0.5).float()
    dist = torch.rand(1, crop, crop, device="cuda")
    memory = [(ref, ref_mask), (ref, ref_mask)]
    test_image = image(crop, paths)

    def step() -> Any:
        return net.segment(net.extract_features(test_image), ref, ref_mask, dist, memory)

    return step


def time_ms(call: Callable[[], Any], iters: int, warmup: int) -> float:
    """Mean milliseconds per call, synchronised with CUDA events."""
    for _ in range(warmup):
        call()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        call()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters


def runner(step: Callable[[], Any], mode: str) -> Callable[[], Any]:
    """The callable to time for ``mode`` (autocast, torch.compile or a captured CUDA graph)."""
    dtype = mode_dtype(mode)

    def eager() -> Any:
        with torch.inference_mode(), autocast(dtype):
            return step()

    if mode.startswith("compile"):
        compiled = torch.compile(step)

        def run_compiled() -> Any:
            with torch.inference_mode(), autocast(dtype):
                return compiled()
        return run_compiled
    if mode.startswith("cudagraph"):  # the trackers' capture (tracking.cuda_graph)
        def autocast_step() -> Any:
            with autocast(dtype):
                return step()
        with torch.inference_mode():
            return CapturedCall(autocast_step)
    return eager


NETS: dict[str, Callable[[InferencePaths], Callable[[], Any]]] = {
    "BIT-101": lambda paths: bit_step("resnet101", paths), "BIT-50": lambda paths: bit_step("resnet50", paths),
    "JCAT": jcat_step}
PATHS = {describe(p): p for p in (PLAIN, InferencePaths(fold_bn=True, channels_last=False),
                                   InferencePaths(fold_bn=True, channels_last=True))}


def bench_inference(iters: int, warmup: int, modes: list[str], nets: list[str],
                    paths: list[str]) -> dict[str, dict[str, float]]:
    """Frames/s of each network under each set of inference paths (rows) in each mode (columns)."""
    results: dict[str, dict[str, float]] = {}
    print(f"{'network':30s} " + " ".join(f"{m:>15s}" for m in modes) + "   (frames/s, batch 1)")
    for name, label in ((n, p) for n in nets for p in paths):
        step = NETS[name](PATHS[label])
        name = f"{name} [{label}]"
        results[name] = {}
        cells = []
        for mode in modes:
            try:
                fps = 1000.0 / time_ms(runner(step, mode), iters, warmup)
                cells.append(f"{fps:15.1f}")
            except Exception as err:  # noqa: BLE001 - one failing mode (e.g. compile) must not hide the others
                fps = float("nan")
                cells.append(f"{'failed':>15s}")
                print(f"  {name} {mode}: {type(err).__name__}: {str(err).splitlines()[0][:120]}", file=sys.stderr)
            results[name][mode] = fps
        print(f"{name:30s} " + " ".join(cells), flush=True)
        torch.cuda.empty_cache()
    return results


def bench_training(iters: int, warmup: int) -> float:
    """Iterations/s of bit/default stage 1 with bf16 AMP on synthetic GPU batches."""
    from ltr.actors.bit import build_bit_actor
    from ltr.config.loader import to_dict
    from ltr.models.backbone.pretrained import without_pretrained
    from ltr.models.registry import NETWORKS
    from pytracking.tracker.base import TRACKERS

    params = TRACKERS.get("bit").load_params("bit", "default")
    net = NETWORKS.build("bit", **without_pretrained(to_dict(params.model))).cuda().train()  # speed only
    actor = build_bit_actor(net, params).to("cuda")
    optimizer = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-4)
    b, t = params.data.batch_size, 2
    zs, xs = params.model.template_size, params.model.search_size
    batch = {"template_images": torch.randn(b, t, 3, zs, zs, device="cuda"),
             "template_pad": torch.zeros(b, t, zs, zs, dtype=torch.bool, device="cuda"),
             "search_images": torch.randn(b, 1, 3, xs, xs, device="cuda"),
             "search_pad": torch.zeros(b, 1, xs, xs, dtype=torch.bool, device="cuda"),
             "search_boxes_norm": torch.tensor([[[0.4, 0.4, 0.2, 0.2]]], device="cuda").expand(b, 1, 4).clone(),
             "label": torch.ones(b, device="cuda")}

    def iteration() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(torch.bfloat16):
            loss, _ = actor.compute(batch)
        loss.backward()
        optimizer.step()

    ms = time_ms(iteration, iters, warmup)
    print(f"bit/default stage 1 training, bf16 AMP, batch {b}: {1000.0 / ms:.2f} it/s ({ms:.1f} ms/it; "
          f"{b * 1000.0 / ms:.1f} samples/s; data loading excluded)")
    return 1000.0 / ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=positive_int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--nets", nargs="+", default=list(NETS), choices=list(NETS))
    parser.add_argument("--paths", nargs="+", default=[describe(default_paths())], choices=list(PATHS),
                        help="inference paths (ltr/models/inference.py); default: the trackers'")
    parser.add_argument("--json", type=Path, help="also write the frames/s table (and training it/s) here")
    parser.add_argument("--train-iters", type=int, default=20)
    parser.add_argument("--no-train", action="store_true", help="skip the training benchmark")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to measure (run this on a machine with an NVIDIA GPU)")
        return 0
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32; AMP modes show the reduced precision gains
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    results: dict[str, Any] = bench_inference(args.iters, args.warmup, args.modes, args.nets, args.paths)
    bit101 = results.get(f"BIT-101 [{args.paths[0]}]", {})
    if "fp32" in bit101:
        fps = bit101["fp32"]
        best = max((v, k) for k, v in bit101.items() if v == v)
        print(f"BIT-101: {fps:.1f} frames/s fp32 eager ({fps / PAPER_FPS_BIT101:.2f}x the paper's "
              f"{PAPER_FPS_BIT101:.0f} FPS, measured there on its own GPU with the full tracker); "
              f"best here {best[0]:.1f} ({best[1]})")
    if not args.no_train:
        results["bit/default stage 1 training it/s"] = bench_training(args.train_iters, max(3, args.warmup // 2))
    if args.json:
        args.json.write_text(json.dumps({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                                         "frames_per_s": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
