"""Training data pipeline throughput per worker, next to the cost of decoding alone (the floor).

Writes a small GOT-10k-layout set and a YouTube-VOS-layout set of real JPEG frames (and
palette-PNG masks) into a temp folder, then times, in one process with one thread (= one
loader worker):

* BIT episode: trident sampling, two 128² templates (factor 2) + one 320² search crop
  (factor 5, jitter 4.5 / 0.5), flip, grayscale, brightness; the uint8 crops the workers hand
  over (the ImageNet normalisation runs on the training device, ``normalise_images``);
* JCAT episode: segmentation sampling, 384² reference + 384² test crop (factor 4, test jitter
  1.5 / 0.25) with masks and the distance map;
* the floor: reading and decoding the same number of frames (and masks) per episode.

Usage: python benchmarks/data_pipeline_speed.py [--size 640x360] [--episodes 200]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from PIL import Image

from ltr.admin.cli_args import frame_size, positive_int
from ltr.config.train import CropConfig, ProcessingConfig, SamplerConfig
from ltr.data.allocator import keep_freed_buffers
from ltr.data.image_io import imread, read_mask
from ltr.data.processing import EpisodeProcessing
from ltr.data.sampler import EpisodeSampler
from ltr.dataset.got10k import GOT10k
from ltr.dataset.youtubevos import YouTubeVOS

META_INFO = ("[METAINFO]\nurl: https://youtu.be/benchmark\nbegin: 00:00:01\nend: 00:00:10\nanno_fps: 10Hz\n"
             "object_class: box\nmotion_class: moving\nmajor_class: object\nroot_class: object\n")


def _frames(count: int, width: int, height: int, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Textured frames with a moving target (so JPEG decode costs what a real frame costs)."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8), (width, height))
    frames, boxes = [], []
    for i in range(count):
        w, h = width // 6, height // 5
        x, y = (width // 4 + 4 * i) % (width - w), (height // 4 + 2 * i) % (height - h)
        frame = np.roll(base, 3 * i, axis=1)
        frame[y:y + h, x:x + w] = (220, 60, 40)
        frames.append(frame)
        boxes.append(np.array([x, y, w, h], np.float64))
    return frames, boxes


def write_got10k(root: Path, sequences: int, frames: int, width: int, height: int) -> None:
    train = root / "train"
    names = [f"GOT-10k_Train_{i + 1:06d}" for i in range(sequences)]
    for s, name in enumerate(names):
        folder = train / name
        folder.mkdir(parents=True)
        images, boxes = _frames(frames, width, height, s)
        for i, image in enumerate(images):
            cv2.imwrite(str(folder / f"{i + 1:08d}.jpg"), image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
        (folder / "groundtruth.txt").write_text("".join(",".join(f"{v:.4f}" for v in b) + "\n" for b in boxes))
        for label, value in (("absence", 0), ("cover", 8), ("cut_by_image", 0)):
            (folder / f"{label}.label").write_text(f"{value}\n" * frames)
        (folder / "meta_info.ini").write_text(META_INFO)
    (train / "list.txt").write_text("\n".join(names) + "\n")


def write_youtubevos(root: Path, videos: int, frames: int, width: int, height: int) -> None:
    meta: dict = {"videos": {}}
    for v in range(videos):
        video = f"{v:010x}"
        images, boxes = _frames(frames, width, height, 100 + v)
        (root / "train/JPEGImages" / video).mkdir(parents=True)
        (root / "train/Annotations" / video).mkdir(parents=True)
        numbers = [f"{5 * i:05d}" for i in range(frames)]
        for number, image, box in zip(numbers, images, boxes):
            cv2.imwrite(str(root / "train/JPEGImages" / video / f"{number}.jpg"), image[:, :, ::-1],
                        [cv2.IMWRITE_JPEG_QUALITY, 90])
            plane = np.zeros((height, width), np.uint8)
            x, y, w, h = (int(c) for c in box)
            plane[y:y + h, x:x + w] = 1
            mask = Image.fromarray(plane, mode="P")
            mask.putpalette([0, 0, 0, 128, 0, 0] + [0] * 762)
            mask.save(root / "train/Annotations" / video / f"{number}.png")
        meta["videos"][video] = {"objects": {"1": {"category": "box", "frames": numbers}}}
    (root / "train/meta.json").write_text(json.dumps(meta))


def per_second(work: Callable[[int], object], count: int, repeats: int = 3) -> float:
    """Items per second of ``work(i)``: the best of ``repeats`` rounds of ``count`` items (the
    least disturbed by other processes on a shared machine), after 5 warm-up items."""
    for i in range(5):
        work(i)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(count):
            work(i)
        best = min(best, time.perf_counter() - start)
    return count / best


def bit_sampler(dataset: GOT10k) -> EpisodeSampler:
    processing = ProcessingConfig(
        template=CropConfig(output_size=128, search_area_factor=2.0),
        search=CropConfig(output_size=320, search_area_factor=5.0, center_jitter=4.5, scale_jitter=0.5),
        flip_prob=0.5, grayscale_prob=0.05)
    processing.template.brightness = processing.search.brightness = 0.2
    sampler = SamplerConfig(mode="trident", num_templates=2, max_gap=200)
    return EpisodeSampler([dataset], sampler, EpisodeProcessing(processing), samples_per_epoch=10**6)


def jcat_sampler(dataset: YouTubeVOS) -> EpisodeSampler:
    processing = ProcessingConfig(
        template=CropConfig(output_size=384, search_area_factor=4.0, brightness=0.2),
        search=CropConfig(output_size=384, search_area_factor=4.0, center_jitter=1.5, scale_jitter=0.25,
                          brightness=0.2),
        masks=True, distance_map=True)
    sampler = SamplerConfig(mode="segmentation", num_templates=1, max_gap=50)
    return EpisodeSampler([dataset], sampler, EpisodeProcessing(processing), samples_per_epoch=10**6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=frame_size, default="640x360")
    parser.add_argument("--episodes", type=positive_int, default=200)
    parser.add_argument("--system-malloc", action="store_true",
                        help="keep glibc's default mmap/trim thresholds (what the loader changes)")
    args = parser.parse_args()
    width, height = args.size
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    if not args.system_malloc:
        keep_freed_buffers()  # as ltr.data.loader does for its workers
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_got10k(root / "got10k", sequences=4, frames=60, width=width, height=height)
        write_youtubevos(root / "ytvos", videos=4, frames=20, width=width, height=height)
        got = GOT10k(root / "got10k", cache_dir=root / "cache")
        vos = YouTubeVOS(root / "ytvos", cache_dir=root / "cache")
        jpegs = sorted((root / "got10k/train").glob("*/*.jpg"))
        vos_jpegs = sorted((root / "ytvos/train/JPEGImages").glob("*/*.jpg"))
        pngs = sorted((root / "ytvos/train/Annotations").glob("*/*.png"))

        def bit_floor(i: int) -> None:
            for k in range(3):
                imread(jpegs[(7 * i + 13 * k) % len(jpegs)])

        def jcat_floor(i: int) -> None:
            for k in range(2):
                imread(vos_jpegs[(7 * i + 13 * k) % len(vos_jpegs)])
                read_mask(pngs[(7 * i + 13 * k) % len(pngs)])

        bit, jcat = bit_sampler(got), jcat_sampler(vos)
        rows = [
            ("BIT  (2x128² + 320², 3 JPEGs)", per_second(bit_floor, args.episodes),
             per_second(lambda i: bit[(0, i)], args.episodes)),
            ("JCAT (384² ref + test, masks, dist; 2 JPEGs + 2 PNGs)", per_second(jcat_floor, args.episodes),
             per_second(lambda i: jcat[(0, i)], args.episodes)),
        ]
    allocator = "glibc defaults" if args.system_malloc else "loader's malloc thresholds"
    print(f"Data pipeline, one worker (1 thread, {allocator}), {width}x{height} frames, {args.episodes} episodes")
    print(f"{'episode':<56}{'decode floor':>14}{'pipeline':>12}{'ratio':>8}")
    for name, floor, pipeline in rows:
        print(f"{name:<56}{floor:>10.1f} ep/s{pipeline:>8.1f} ep/s{floor / pipeline:>7.2f}x")
    print("ratio = pipeline time / decode-only time per episode (aim: <= 1.5)")


if __name__ == "__main__":
    main()
