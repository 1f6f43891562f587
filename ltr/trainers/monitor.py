"""Training curves and progress: TensorBoard scalars (rank 0) and a tqdm bar (TTY only)."""
from __future__ import annotations

import collections
import sys
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

T = TypeVar("T")


class StatsMeter:
    """Sums of per-batch stats weighted by batch size, for epoch averages."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = collections.defaultdict(float)
        self.count = 0

    def update(self, stats: dict[str, float], batch_size: int) -> None:
        for key, value in stats.items():
            self.sums[key] += float(value) * batch_size
        self.count += batch_size


class Monitor:
    """Writes scalars to TensorBoard under ``log_dir`` and shows progress bars, on rank 0 only."""

    def __init__(self, log_dir: str | Path | None, enabled: bool) -> None:
        self.enabled = enabled
        self.writer = SummaryWriter(str(log_dir)) if enabled and log_dir is not None else None

    def progress(self, iterable: Iterable[T], total: int, desc: str) -> Iterator[T]:
        """tqdm over ``iterable``, silent when not rank 0 or stderr is not a terminal."""
        return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True,
                    disable=not (self.enabled and sys.stderr.isatty()))

    def scalars(self, prefix: str, values: dict[str, float], step: int) -> None:
        """Log ``values`` as ``prefix/key`` at ``step``."""
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(f"{prefix}/{key}", value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
