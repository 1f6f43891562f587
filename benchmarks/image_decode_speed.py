"""Prints JPEG decode speed on this machine: jpeg4py (libturbojpeg) vs OpenCV, frames/s.

Usage: python benchmarks/image_decode_speed.py [--size 640x360] [--frames 200]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from ltr.admin.cli_args import frame_size, positive_int
from ltr.data.image_io import imread, jpeg4py_available


def write_frames(folder: Path, count: int, width: int, height: int) -> list[Path]:
    """Textured JPEG frames (quality 90) so the decode cost resembles real video frames."""
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8), (width, height))
    paths = []
    for i in range(count):
        frame = np.roll(base, i * 3, axis=1)
        path = folder / f"{i + 1:08d}.jpg"
        cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def frames_per_second(paths: list[Path], use_jpeg4py: bool, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for path in paths:
            imread(path, use_jpeg4py=use_jpeg4py)
        best = min(best, time.perf_counter() - start)
    return len(paths) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=frame_size, default="640x360")
    parser.add_argument("--frames", type=positive_int, default=200)
    args = parser.parse_args()
    width, height = args.size
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_frames(Path(tmp), args.frames, width, height)
        opencv = frames_per_second(paths, use_jpeg4py=False)
        print(f"JPEG decode {width}x{height}, {args.frames} frames, 1 thread")
        print(f"  OpenCV   : {opencv:8.1f} frames/s")
        if jpeg4py_available():
            fast = frames_per_second(paths, use_jpeg4py=True)
            print(f"  jpeg4py  : {fast:8.1f} frames/s  ({fast / opencv:.2f}x OpenCV)")
        else:
            print("  jpeg4py  : unavailable (libturbojpeg not installed)")


if __name__ == "__main__":
    main()
