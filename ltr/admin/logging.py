"""Process-wide logging setup for training: one format, quiet on non-zero ranks."""
from __future__ import annotations

import logging
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(rank: int = 0, level: int = logging.INFO, log_file: str | Path | None = None) -> None:
    """Configure the root logger: INFO on rank 0, WARNING elsewhere; optionally also a file.

    Warnings from every rank still show (prefixed with the rank) so a corrupt frame on rank 3
    is not lost.
    """
    fmt = FORMAT if rank == 0 else f"[rank {rank}] {FORMAT}"
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None and rank == 0:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=level if rank == 0 else max(level, logging.WARNING), format=fmt,
                        handlers=handlers, force=True)
