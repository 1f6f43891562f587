"""``python -m ltr.dataset.build_lmdb <dataset key or root> [--out DIR]``: pack frames into LMDB.

The result is read by any dataset class given ``frame_store='lmdb'`` (and ``lmdb_dir=DIR``
when ``--out`` is not the default ``<workspace>/lmdb``).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ltr.admin.paths import DATASET_KEYS, MissingPathError, load_paths
from ltr.dataset.lmdb_store import default_lmdb_dir, pack_folder


def resolve_root(target: str) -> Path:
    """A dataset key from the paths config (``got10k``) or a folder path."""
    if target in DATASET_KEYS:
        return load_paths().dataset_root(target)
    root = Path(target).expanduser()
    if not root.is_dir():
        raise MissingPathError(f"{target}: neither a dataset key ({', '.join(DATASET_KEYS)}) nor a folder")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ltr.dataset.build_lmdb", description=__doc__)
    parser.add_argument("target", help="dataset key from the paths config, or a dataset root folder")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: <workspace>/lmdb)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        root = resolve_root(args.target)
    except MissingPathError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = args.out if args.out is not None else default_lmdb_dir()
    if out.exists() and not out.is_dir():
        print(f"error: --out {out}: not a folder (the LMDB file is written inside it)", file=sys.stderr)
        return 2
    try:
        path = pack_folder(root, out, progress=not args.quiet and sys.stderr.isatty())
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
