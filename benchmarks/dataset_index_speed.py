"""Prints how long a GOT-10k-sized training set takes to open: cold (index built) and cached.

Builds a fake GOT-10k ``train/`` tree of annotation files only (no images: list.txt,
groundtruth.txt, absence.label, cover.label, meta_info.ini; a few frames per sequence) in a
temporary folder, then opens it with ``GOT10k`` three times: the first open reads every
annotation file and writes the index cache, the next ones load the cache.

Usage: python benchmarks/dataset_index_speed.py [--sequences 9335] [--frames 5]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ltr.admin.cli_args import positive_int
from ltr.dataset.got10k import GOT10k

META = "[METAINFO]\nurl: x\nbegin: 0\nend: 1\nanno_fps: 10Hz\nobject_class: c{}\nmotion_class: m\n" \
       "major_class: a\nroot_class: r\nmotion_adverb: s\nresolution: (1280, 720)\n"


def write_tree(train: Path, sequences: int, frames: int) -> None:
    """Annotation files of ``sequences`` GOT-10k training sequences of ``frames`` frames each."""
    train.mkdir(parents=True)
    names = [f"GOT-10k_Train_{i:06d}" for i in range(1, sequences + 1)]
    gt = "".join(f"{10 + k}.0000,{20 + k}.0000,30.0000,40.0000\n" for k in range(frames))
    labels = "0\n" * frames
    cover = "8\n" * frames
    for i, name in enumerate(names):
        folder = train / name
        folder.mkdir()
        (folder / "groundtruth.txt").write_text(gt)
        (folder / "absence.label").write_text(labels)
        (folder / "cover.label").write_text(cover)
        (folder / "meta_info.ini").write_text(META.format(i % 500))
    (train / "list.txt").write_text("\n".join(names) + "\n")


def timed_open(root: Path, cache_dir: Path) -> tuple[float, GOT10k]:
    start = time.perf_counter()
    dataset = GOT10k(root, cache_dir=cache_dir)
    return time.perf_counter() - start, dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequences", type=positive_int, default=9335)
    parser.add_argument("--frames", type=positive_int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, cache_dir = Path(tmp) / "GOT-10k", Path(tmp) / "cache"
        start = time.perf_counter()
        write_tree(root / "train", args.sequences, args.frames)
        print(f"fake tree : {args.sequences} sequences x {args.frames} frames, written in "
              f"{time.perf_counter() - start:.1f} s")
        cold, dataset = timed_open(root, cache_dir)
        assert not dataset.index_from_cache and len(dataset) == args.sequences
        print(f"cold open : {cold:.2f} s (reads every annotation file, writes the index cache)")
        for attempt in (1, 2):
            warm, dataset = timed_open(root, cache_dir)
            assert dataset.index_from_cache
            print(f"cached    : {warm:.3f} s (open #{attempt + 1}, from the index cache)")
        start = time.perf_counter()
        for i in range(len(dataset)):
            dataset.get_sequence_info(i)
        print(f"sequence info for all: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
