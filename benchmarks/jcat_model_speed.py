"""Prints the JCAT network's forward time per part and the segmentation frames/s.

Parts: backbone on one 384² crop, correlation branch, attention branch, refinement, and the
per-frame segmentation forward (backbone on the test crop + head, the reference and memory samples
prepared once, as the tracker does), also with a full 4-sample memory bank. ResNet-50 and
ResNet-18 by default (or efficientnet_lite0, the tiny net's), on CPU and on CUDA when present.

Usage: python benchmarks/jcat_model_speed.py [--backbones resnet50 resnet18 efficientnet_lite0] [--iters 10] [--threads N]
"""
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # thread policy (ltr/admin/threads.py): idle OpenMP threads sleep; set before torch loads
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ltr.admin.threads import prefer_passive_waiting

    prefer_passive_waiting()

import argparse
import logging
import statistics
import time
from typing import Callable, get_args

import torch

from ltr.admin.cli_args import positive_int
from ltr.admin.threads import add_threads_argument, set_threads
from ltr.models.jcat import JcatModelConfig, JcatNet
from ltr.models.jcat.config import BackboneName

CROP = 384
MEMORY_SAMPLES = 4


def timed(fn: Callable[[], object], device: torch.device, iters: int, warmup: int) -> float:
    """Median wall time of ``fn`` in milliseconds (device synchronised)."""
    samples = []
    for i in range(warmup + iters):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i >= warmup:
            samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def bench(backbone: str, device: torch.device, iters: int, warmup: int) -> dict[str, float]:
    """Times of each part (ms) for one backbone on one device."""
    torch.manual_seed(0)
    net = JcatNet(JcatModelConfig(backbone=backbone)).to(device).eval()
    head = net.segm_predictor
    image = torch.randn(1, 3, CROP, CROP, device=device)
    mask = torch.zeros(1, 1, CROP, CROP, device=device)
    mask[..., 150:230, 140:250] = 1
    dist = torch.rand(1, 1, CROP, CROP, device=device)
    with torch.inference_mode():
        train = net.extract_features(image.flip(-1))
        test = net.extract_features(image)
        reference = net.prepare_reference(train, mask)  # once per sequence in the tracker, as the memory
        memory = [net.prepare_memory(train, mask)] * MEMORY_SAMPLES
        corr = head.correlation(test["layer3"], reference.sample, dist)
        sem = head.attention_prepared(reference.tokens, test["layer3"])
        return {
            "backbone": timed(lambda: net.extract_features(image), device, iters, warmup),
            "correlation": timed(lambda: head.correlation(test["layer3"], reference.sample, dist),
                                 device, iters, warmup),
            "attention": timed(lambda: head.attention_prepared(reference.tokens, test["layer3"]), device, iters, warmup),
            "refinement": timed(lambda: head.refine(corr, sem, test), device, iters, warmup),
            "frame": timed(lambda: net.segment_prepared(net.extract_features(image), reference, dist),
                           device, iters, warmup),
            "frame_memory": timed(lambda: net.segment_prepared(net.extract_features(image), reference, dist, memory),
                                  device, iters, warmup),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="+", default=["resnet50", "resnet18"], choices=get_args(BackboneName))
    parser.add_argument("--iters", type=positive_int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    add_threads_argument(parser)
    args = parser.parse_args()
    args.threads = set_threads(args.threads)
    logging.disable(logging.WARNING)  # random-init backbone warnings
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"JCAT forward, one {CROP}x{CROP} crop, batch 1, fp32, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads; median of {args.iters} runs, ms")
    header = (f"{'device':<6} {'backbone':<18} {'backbone':>9} {'corr':>7} {'attn':>7} {'refine':>7} "
              f"{'frame':>8} {'fps':>6} {'frame+mem4':>11} {'fps':>6}")
    print(header)
    for device in devices:
        name = "cpu" if device.type == "cpu" else torch.cuda.get_device_name(device)
        for backbone in args.backbones:
            t = bench(backbone, device, args.iters, args.warmup)
            print(f"{device.type:<6} {backbone:<18} {t['backbone']:9.1f} {t['correlation']:7.1f} {t['attention']:7.1f} "
                  f"{t['refinement']:7.1f} {t['frame']:8.1f} {1e3 / t['frame']:6.1f} "
                  f"{t['frame_memory']:11.1f} {1e3 / t['frame_memory']:6.1f}")
        if device.type == "cuda":
            print(f"  (cuda device: {name})")


if __name__ == "__main__":
    main()
