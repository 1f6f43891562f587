"""Prints the online JCAT tracker's frames/s and where a ``track()`` call spends its time.

Stages (ms per frame, averaged over the timed frames): ``crop`` (whole-pixel crops and tensor
conversion), ``backbone`` (every ``extract_features`` call of the main path: the filter's
search crop and the segmentation crop), ``filter`` (response and localisation), ``filter_opt``
(sample memory update and conjugate gradient), ``segment_head`` (the JCAT head),
``mask_to_box`` (region filling, rotated rectangle, ``fit_bbox_to_mask``, area-preserving
box), ``memory_bank`` (a memory-bank update: its own crop, backbone and head pass, all
counted here) and ``other`` (the rest: the frame-size mask warp, bookkeeping). The stages are
timed by wrapping the tracker's functions here, so the tracker itself carries no timing code.
Frames: a textured target moving over a noise background.

Usage: python benchmarks/jcat_track_speed.py [--configs default tiny] [--frames 30] [--threads N]
       [--size 640 480] [--device cpu|cuda] [--set tracking.amp=true]
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
import time
from collections import defaultdict
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ltr.admin.cli_args import positive_int
from ltr.admin.threads import add_threads_argument, set_threads

import pytracking.tracker.jcat.segmentation as segmentation_module
import pytracking.tracker.jcat.tracker as tracker_module
from ltr.config.experiment import load_experiment
from pytracking.tracker.jcat.tracker import JcatTracker

STAGES = ("crop", "backbone", "filter", "filter_opt", "segment_head", "mask_to_box", "memory_bank")


class StageClock:
    """Accumulates wall time per stage of functions wrapped with :meth:`wrap`."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.totals: dict[str, float] = defaultdict(float)
        self.outer = 0  # > 0 while an outer stage runs: everything inside counts for it

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def wrap(self, stage: str, fn: Callable[..., Any], outer: bool = False) -> Callable[..., Any]:
        """``fn`` timed into ``stage``; an ``outer`` stage takes the time of the stages inside it."""
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.outer and not outer:
                return fn(*args, **kwargs)
            self._sync()
            start = time.perf_counter()
            self.outer += outer
            try:
                return fn(*args, **kwargs)
            finally:
                self.outer -= outer
                self._sync()
                self.totals[stage] += time.perf_counter() - start
        return timed


def moving_target(frames: int, width: int, height: int) -> tuple[list[np.ndarray], list[float]]:
    """Frames of a textured rectangle moving diagonally, and its initial box."""
    rng = np.random.default_rng(0)
    background = rng.integers(0, 120, (height, width, 3), dtype=np.uint8)
    w, h = width // 8, height // 6
    texture = rng.integers(130, 255, (h, w, 3), dtype=np.uint8)
    out = []
    for i in range(frames):
        x, y = width // 4 + 3 * i, height // 4 + 2 * i
        frame = background.copy()
        frame[y:y + h, x:x + w] = texture
        out.append(frame)
    return out, [float(width // 4), float(height // 4), float(w), float(h)]


MODULE_FUNCTIONS = [
    (module, name, "crop") for module in (tracker_module, segmentation_module)
    for name in ("sample_patch", "sample_target", "to_network_input") if hasattr(module, name)
] + [(module, name, "mask_to_box") for module in (tracker_module, segmentation_module)
     for name in ("fill_contour", "contour_box", "contour_rotated_rect", "fit_bbox_to_mask", "area_preserving_box")
     if hasattr(module, name)]


def instrument(tracker: JcatTracker, clock: StageClock) -> Callable[[], None]:
    """Wrap the per-frame functions of an initialised tracker (and its modules); returns the undo."""
    originals = [(module, name, getattr(module, name)) for module, name, _ in MODULE_FUNCTIONS]
    for module, name, stage in MODULE_FUNCTIONS:
        setattr(module, name, clock.wrap(stage, getattr(module, name)))
    tracker.net.extract_features = clock.wrap("backbone", tracker.net.extract_features)
    tracker.net.segment_prepared = clock.wrap("segment_head", tracker.net.segment_prepared)
    tracker.dcf.response = clock.wrap("filter", tracker.dcf.response)
    tracker.dcf.localize = clock.wrap("filter", tracker.dcf.localize)
    tracker.dcf.add_sample = clock.wrap("filter_opt", tracker.dcf.add_sample)
    tracker.dcf.optimize_filter = clock.wrap("filter_opt", tracker.dcf.optimize_filter)
    if hasattr(tracker, "_add_memory_sample"):
        tracker._add_memory_sample = clock.wrap("memory_bank", tracker._add_memory_sample, outer=True)

    def undo() -> None:
        for module, name, fn in originals:
            setattr(module, name, fn)
        for name in ("_add_memory_sample",):
            tracker.__dict__.pop(name, None)
    return undo


def bench(config: str, device: str, frames: int, warmup: int, size: tuple[int, int],
          overrides: Sequence[str] = ()) -> dict[str, float]:
    """ms per frame for each stage, total ms, frames/s and the init time for one experiment config."""
    torch.manual_seed(0)
    params = load_experiment("jcat", config, [f"tracking.device={device}", *overrides])
    tracker = JcatTracker(params)
    images, box = moving_target(frames + warmup + 1, *size)
    start = time.perf_counter()
    tracker.initialize(images[0], {"init_bbox": box, "seed": 0})
    init_ms = (time.perf_counter() - start) * 1e3
    for image in images[1:warmup + 1]:
        tracker.track(image, {})
    clock = StageClock(tracker.device)
    undo = instrument(tracker, clock)
    try:
        start = time.perf_counter()
        for image in images[warmup + 1:]:
            tracker.track(image, {})
        total = (time.perf_counter() - start) * 1e3 / frames
    finally:
        undo()
    stages = {stage: clock.totals[stage] * 1e3 / frames for stage in STAGES}
    stages["other"] = total - sum(stages.values())
    return {**stages, "total": total, "fps": 1e3 / total, "init": init_ms,
            "backbone_name": params.model.backbone}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["default", "tiny"],
                        help="experiments/jcat configs (default: ResNet-50, tiny: EfficientNet-Lite0)")
    parser.add_argument("--frames", type=positive_int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--size", type=positive_int, nargs=2, default=(640, 480), metavar=("W", "H"))
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None,
                        help="default: CPU, plus CUDA when available")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set tracking.amp=true (repeatable)")
    add_threads_argument(parser)
    args = parser.parse_args()
    args.threads = set_threads(args.threads)
    logging.basicConfig(level=logging.ERROR)
    devices = [args.device] if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, frames {args.size[0]}x{args.size[1]}, "
          f"{args.frames} timed frames after {args.warmup} warm-up")
    header = f"{'config':<10}{'backbone':<19}{'device':<7}" + "".join(f"{s:>13}" for s in (*STAGES, "other")) + \
        f"{'total ms':>10}{'fps':>7}{'init ms':>9}"
    print(header)
    for device in devices:
        for config in args.configs:
            r = bench(config, device, args.frames, args.warmup, tuple(args.size), args.overrides)
            print(f"{config:<10}{r['backbone_name']:<19}{device:<7}"
                  + "".join(f"{r[s]:>13.1f}" for s in (*STAGES, "other"))
                  + f"{r['total']:>10.1f}{r['fps']:>7.1f}{r['init']:>9.0f}")


if __name__ == "__main__":
    main()
