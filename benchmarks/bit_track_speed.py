"""Online tracking speed of BIT: ``BitTracker.track()`` frames/s with the per-stage breakdown.

    python benchmarks/bit_track_speed.py [--configs tiny r50 default] [--frames 30] [--warmup 5]

For each config (random weights: speed does not depend on them) the tracker follows a square
moving over a 640x480 video; frames/s is measured over ``--frames`` calls of ``track()``
after ``--warmup`` calls (CUDA-synchronised), so it includes everything the tracker does per
frame: search crop, normalisation, network, box mapping, clipping and template updates. The
breakdown (median ms of crop/normalise, backbone, encoder, MDAI, CTIF, heads) comes from
``ltr.profile_model.bit_latency`` (op by op). Runs on CPU in fp32 and, when a GPU is present, on
CUDA in fp32 and with ``tracking.amp`` (the tracker's own autocast: bf16 where the GPU has it,
else fp16), each op by op and with ``tracking.cuda_graph`` (the network step replayed).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # thread policy (ltr/admin/threads.py): idle OpenMP threads sleep; set before torch loads
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ltr.admin.threads import prefer_passive_waiting

    prefer_passive_waiting()

import argparse
import time
from typing import Sequence

import numpy as np
import torch

from ltr.admin.cli_args import positive_int
from ltr.admin.threads import add_threads_argument, set_threads
from ltr.profile_model import bit_latency, make_inputs
from pytracking.tracker.bit import BitTracker

WIDTH, HEIGHT, TARGET = 640, 480, 60


def moving_square(count: int) -> list[tuple[np.ndarray, list[float]]]:
    """``count`` noisy frames with a bright square moving along a circle, and its boxes."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(count):
        image = rng.integers(0, 80, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        x = WIDTH / 2 + 150 * np.cos(i / 10) - TARGET / 2
        y = HEIGHT / 2 + 100 * np.sin(i / 10) - TARGET / 2
        image[int(y):int(y) + TARGET, int(x):int(x) + TARGET] = (230, 200, 40)
        frames.append((image, [float(x), float(y), float(TARGET), float(TARGET)]))
    return frames


def settings(cpu: bool = True) -> list[tuple[str, bool, bool]]:
    """(device, amp, cuda_graph): CPU fp32, plus on a GPU fp32 and AMP, each op by op and replayed
    from a CUDA graph (``tracking.cuda_graph``)."""
    out = [("cpu", False, False)] if cpu else []
    if torch.cuda.is_available():
        out += [("cuda", amp, graph) for graph in (False, True) for amp in (False, True)]
    return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def track_fps(tracker: BitTracker, frames: list, warmup: int) -> float:
    """Frames/s of ``track()`` over ``frames`` after ``warmup`` untimed calls."""
    tracker.initialize(frames[0][0], {"init_bbox": frames[0][1]})
    for image, _ in frames[1:1 + warmup]:
        tracker.track(image, {})
    timed = frames[1 + warmup:]
    _sync(tracker.device)
    start = time.perf_counter()
    for image, _ in timed:
        tracker.track(image, {})
    _sync(tracker.device)
    return len(timed) / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> None:
    """Print one line per config and device/precision: frames/s and the breakdown in ms."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", default=["tiny", "r50", "default"])
    parser.add_argument("--frames", type=positive_int, default=30, help="timed track() calls")
    parser.add_argument("--warmup", type=int, default=5, help="untimed track() calls first")
    parser.add_argument("--runs", type=positive_int, default=10, help="timed runs per stage of the breakdown")
    parser.add_argument("--gpu-only", action="store_true", help="skip the CPU rows")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    args.threads = set_threads(args.threads)
    frames = moving_square(1 + args.warmup + args.frames)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {WIDTH}x{HEIGHT} frames")
    for device, amp, graph in settings(cpu=not args.gpu_only):
        name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
        for config in args.configs:
            params = BitTracker.load_params("bit", config, ["tracking.checkpoint=null", f"tracking.device={device}",
                                                            f"tracking.amp={amp}", f"tracking.cuda_graph={graph}"])
            tracker = BitTracker(params)
            fps = track_fps(tracker, frames, args.warmup)
            if graph:  # the breakdown times the stages op by op: the same as the row without the graph
                stages = "breakdown as op by op"
            else:
                times = bit_latency(tracker.net, make_inputs(tracker.net, tracker.device), tracker.device,
                                    args.runs, max(1, args.warmup // 2), amp)
                stages = ", ".join(f"{k} {v:.1f}" for k, v in times.items() if k not in ("sum of stages",))
            mode = ("amp " if amp else "fp32") + (" graph" if graph else "")
            print(f"bit/{config:<8} {name} {mode}: track() {fps:6.1f} frames/s ({1000 / fps:.1f} ms); ms: {stages}",
                  flush=True)


if __name__ == "__main__":
    main()
