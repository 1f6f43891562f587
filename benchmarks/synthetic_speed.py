"""Prints synthetic-data generation speed on this machine: annotations per sequence, frames/s
rendered in memory, and frames/s materialised to disk (JPEG + mask PNG) with 1 and N processes.

Wall-clock figures depend on what else runs; the CPU seconds per frame do not, and give the time
an idle machine would take. Usage:
python benchmarks/synthetic_speed.py [--size 480x360] [--frames 150] [--sequences 10] [--workers 2]
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from dataclasses import replace
from functools import partial

import cv2

from ltr.admin.cli_args import frame_size, positive_int
from ltr.dataset.synthetic import SyntheticParams, SyntheticSequence, sequence_seed
from ltr.dataset.synthetic.benchmark import materialise_split


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(work) -> tuple[float, float]:
    """Wall and CPU seconds that ``work()`` takes."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    work()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=frame_size, default="480x360")
    parser.add_argument("--frames", type=positive_int, default=150)
    parser.add_argument("--sequences", type=positive_int, default=10)
    parser.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    width, height = args.size
    params = replace(SyntheticParams(), width=width, height=height, num_frames=args.frames)
    seeds = [sequence_seed("test", k) for k in range(args.sequences)]
    total = args.sequences * args.frames
    cv2.setNumThreads(1)
    print(f"synthetic data, {args.sequences} sequences x {args.frames} frames at {width}x{height}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    wall, cpu = timed(lambda: [SyntheticSequence(seed, params).geometry for seed in seeds])
    print(f"  annotations only (plan + geometry) : {wall / args.sequences * 1e3:8.1f} ms per sequence")
    wall, cpu = timed(lambda: [sum(1 for _ in SyntheticSequence(seed, params).frames()) for seed in seeds])
    print(f"  render in memory, 1 process        : {total / wall:8.1f} frames/s  "
          f"({cpu / total * 1e3:.2f} ms CPU/frame)")
    for workers in sorted({1, args.workers}):
        with tempfile.TemporaryDirectory() as root:
            wall, cpu = timed(partial(materialise_split, root, "test", args.sequences, params, workers=workers))
        print(f"  materialise to disk, {workers} process(es) : {total / wall:8.1f} frames/s  "
              f"({cpu / total * 1e3:.2f} ms CPU/frame; 50 x 150 frames would take {7500 / (total / wall):.0f} s)")


if __name__ == "__main__":
    main()
