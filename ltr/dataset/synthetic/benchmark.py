"""Materialise a synthetic benchmark split on disk, in the GOT-10k layout.

``<root>/<split>/list.txt``, one folder per sequence (``Synthetic_Test_000001/``: frames,
``groundtruth.txt``, label files, ``meta_info.ini``, ``masks/``), ``attributes.json``
(``{sequence: [tags]}``) and ``.complete``. Splits ``train``, ``val`` and ``test`` use disjoint
seeds.

Unlike the real GOT-10k test split, the synthetic **test split keeps the full ground truth and
the label files for every frame**, so it can be evaluated locally. Frames where the target is
absent (out of view or fully occluded) keep the target's true box, as GOT-10k train does; the
GOT-10k protocol ignores them through ``cover == 0``.

Crash safety: each sequence folder is written under a hidden staging name and renamed once
complete, so a sequence folder is never partial; split-level files are written atomically and
``.complete`` (the generator record: version, split, count, seeds, parameters) comes last. A
re-run with the same record is a no-op; one that finds an interrupted run with the same record
(``.in_progress``) finishes it, keeping the finished sequences; a split folder without markers
that holds only files this module writes is generated again; a different record, or a folder
with other files, is refused unless ``overwrite``.

CLI: ``python -m ltr.dataset.synthetic.benchmark --root DIR --split test --sequences 50
--frames 150 --size 480x360 [--workers N]``.
"""
from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import re
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
from tqdm import tqdm

from ltr.admin.atomic import atomic_write_text
from ltr.dataset.synthetic.got10k_writer import write_sequence
from ltr.dataset.synthetic.params import SyntheticParams
from ltr.dataset.synthetic.sequence import SyntheticSequence
from ltr.dataset.synthetic.splits import SPLITS, sequence_name, sequence_seed

logger = logging.getLogger(__name__)

GENERATOR_VERSION = 1  # bump when the same parameters would produce different data
COMPLETE, IN_PROGRESS, STAGING_SUFFIX = ".complete", ".in_progress", ".partial"


def split_record(split: str, num_sequences: int, params: SyntheticParams, base_seed: int = 0,
                 jpeg_quality: int = 90, prefix: str = "Synthetic") -> dict[str, Any]:
    """What identifies a materialised split; stored in ``.complete``."""
    record = {"generator_version": GENERATOR_VERSION, "split": split, "sequences": num_sequences,
              "base_seed": base_seed, "jpeg_quality": jpeg_quality, "params": params.to_dict()}
    if prefix != "Synthetic":
        record["prefix"] = prefix
    return record


def _read_record(path: Path) -> dict[str, Any] | None:
    """The JSON record at ``path``; None when missing, ``{}`` when unreadable. Parameters are
    normalised through :class:`SyntheticParams`, so a record written before a parameter existed
    still matches when the parameter has its default (which generates the same data)."""
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        record["params"] = SyntheticParams.from_dict(record["params"]).to_dict()
        return record
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    flat_old = {**old, **{f"params.{k}": v for k, v in old.get("params", {}).items()}}
    flat_new = {**new, **{f"params.{k}": v for k, v in new["params"].items()}}
    keys = [k for k in flat_new if k != "params" and flat_old.get(k) != flat_new[k]]
    return ", ".join(f"{k}: {flat_old.get(k)!r} -> {flat_new[k]!r}" for k in keys) or "unreadable record"


def _only_generated(split_dir: Path, split: str, prefix: str = "Synthetic") -> bool:
    """Whether every entry of ``split_dir`` has a name this module writes (an unmarked split)."""
    sequence = rf"\.?{re.escape(prefix)}_{split.capitalize()}_\d{{6,}}({re.escape(STAGING_SUFFIX)})?"
    pattern = re.compile(rf"{sequence}|list\.txt|attributes\.json")
    return all(pattern.fullmatch(entry.name) for entry in split_dir.iterdir())


def _prepare(split_dir: Path, record: dict[str, Any], overwrite: bool) -> bool:
    """True when the split is already complete with ``record``; otherwise leave ``split_dir``
    ready to (re)write: wiped, or an interrupted run with the same record kept for resuming."""
    complete, progress = _read_record(split_dir / COMPLETE), _read_record(split_dir / IN_PROGRESS)
    if complete == record:
        return True
    if complete is not None:
        if not overwrite:
            raise FileExistsError(f"{split_dir} holds a synthetic split made with other settings "
                                  f"({_differences(complete, record)}); pass overwrite=True (--overwrite) "
                                  "to replace it")
        shutil.rmtree(split_dir)
    elif progress is not None:
        if progress != record:
            logger.info("%s: discarding an interrupted run made with other settings", split_dir)
            shutil.rmtree(split_dir)
    elif split_dir.is_dir() and any(split_dir.iterdir()):
        if not (overwrite or _only_generated(split_dir, record["split"], record.get("prefix", "Synthetic"))):
            raise FileExistsError(f"{split_dir} is not empty and holds no synthetic split; refusing to write "
                                  "there (pass overwrite=True / --overwrite to replace its contents)")
        logger.info("%s: no .complete marker; generating the split again", split_dir)
        shutil.rmtree(split_dir)
    split_dir.mkdir(parents=True, exist_ok=True)
    for staging in split_dir.glob(f".*{STAGING_SUFFIX}"):
        shutil.rmtree(staging)
    atomic_write_text(split_dir / IN_PROGRESS, json.dumps(record, indent=1))
    return False


def _write_one(job: tuple[Path, str, int, SyntheticParams, int]) -> tuple[str, list[str]]:
    """Render and write one sequence folder via a staging folder; returns its name and tags."""
    split_dir, name, seed, params, jpeg_quality = job
    sequence = SyntheticSequence(seed, params)
    staging = split_dir / f".{name}{STAGING_SUFFIX}"
    write_sequence(staging, sequence, jpeg_quality)
    os.rename(staging, split_dir / name)
    return name, sequence.attributes


def _single_threaded_opencv() -> None:
    """Worker initialiser: one process per core already, so no OpenCV thread pool on top."""
    cv2.setNumThreads(1)


def materialise_split(root: str | os.PathLike, split: str = "test", num_sequences: int = 50,
                      params: SyntheticParams | None = None, base_seed: int = 0, workers: int | None = None,
                      overwrite: bool = False, jpeg_quality: int = 90, prefix: str = "Synthetic",
                      folder: str | None = None) -> Path:
    """Write (or finish, or keep) split ``split`` under ``root``; returns ``root / split`` (or
    ``root / folder`` when a folder name is given).

    ``workers`` processes render sequences in parallel (default: one per CPU; 0 or 1 renders in
    this process). Sequence folders are named ``<prefix>_<Split>_000001``.
    """
    params = params or SyntheticParams()
    if isinstance(num_sequences, bool) or not isinstance(num_sequences, int) or not 1 <= num_sequences <= 1_000_000:
        raise ValueError(f"num_sequences must be an integer in [1, 1000000], got {num_sequences!r}")
    if isinstance(jpeg_quality, bool) or not isinstance(jpeg_quality, int) or not 1 <= jpeg_quality <= 100:
        raise ValueError(f"jpeg_quality must be an integer in [1, 100], got {jpeg_quality!r}")
    seeds = [sequence_seed(split, k, base_seed) for k in range(num_sequences)]
    names = [sequence_name(split, k, prefix) for k in range(num_sequences)]
    split_dir = Path(root) / (folder or split)
    record = split_record(split, num_sequences, params, base_seed, jpeg_quality, prefix)
    if _prepare(split_dir, record, overwrite):
        logger.info("%s: already complete (%d sequences)", split_dir, num_sequences)
        return split_dir
    jobs = [(split_dir, name, seed, params, jpeg_quality)
            for name, seed in zip(names, seeds, strict=True) if not (split_dir / name).is_dir()]
    attributes = {name: SyntheticSequence(seed, params).attributes
                  for name, seed in zip(names, seeds, strict=True) if (split_dir / name).is_dir()}
    if workers is None:
        workers = os.cpu_count() or 1
    workers = min(workers, len(jobs))
    quiet = not sys.stderr.isatty() or bool(os.environ.get("CI"))
    with tqdm(total=len(jobs), desc=f"synthetic {split}", unit="seq", disable=quiet) as bar:
        if workers > 1:
            with multiprocessing.get_context("spawn").Pool(workers, initializer=_single_threaded_opencv) as pool:
                for name, tags in pool.imap_unordered(_write_one, jobs):
                    attributes[name] = tags
                    bar.update()
        else:
            for job in jobs:
                name, tags = _write_one(job)
                attributes[name] = tags
                bar.update()
    atomic_write_text(split_dir / "list.txt", "".join(f"{name}\n" for name in names))
    atomic_write_text(split_dir / "attributes.json", json.dumps({n: attributes[n] for n in names}, indent=1))
    atomic_write_text(split_dir / COMPLETE, json.dumps(record, indent=1))
    (split_dir / IN_PROGRESS).unlink()
    return split_dir


def _parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 480x360, got {text!r}") from None
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic benchmark split in the GOT-10k layout.")
    parser.add_argument("--root", help="benchmark root (default: the 'synthetic' dataset path, see ltr-doctor)")
    parser.add_argument("--split", choices=SPLITS, default="test")
    parser.add_argument("--sequences", type=int, default=50)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--size", type=_parse_size, default=(480, 360), help="WIDTHxHEIGHT (default 480x360)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: one per CPU)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument("--image-folder", help="photos to cut target and background textures from")
    parser.add_argument("--quality", type=int, default=90, help="JPEG quality (default 90)")
    parser.add_argument("--overwrite", action="store_true", help="replace a split made with other settings")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.root is None:
        from ltr.admin.paths import load_paths

        args.root = load_paths().dataset_root("synthetic")
    try:
        params = replace(SyntheticParams(), width=args.size[0], height=args.size[1], num_frames=args.frames,
                         image_folder=args.image_folder)
        start = time.perf_counter()
        split_dir = materialise_split(args.root, args.split, args.sequences, params, args.seed, args.workers,
                                      args.overwrite, args.quality)
    except (FileExistsError, FileNotFoundError, ValueError) as err:
        parser.error(str(err))
    print(f"{split_dir}: {args.sequences} sequences x {args.frames} frames at {args.size[0]}x{args.size[1]} "
          f"({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
