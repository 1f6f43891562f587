"""The run's checkpoint folder: one file per epoch, keep-last-N plus milestone epochs."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from ltr.config.train import TrainConfig

logger = logging.getLogger(__name__)
PATTERN = re.compile(r"^ep(\d{4,})\.pth$")


class CheckpointFolder:
    """``<folder>/ep0001.pth ...`` and the resolved ``config.yaml`` of a training run."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def path(self, epoch: int) -> Path:
        return self.folder / f"ep{epoch:04d}.pth"

    @staticmethod
    def epoch_of(path: Path) -> int:
        """The epoch in a checkpoint's file name (``ep0007.pth`` -> 7)."""
        match = PATTERN.match(Path(path).name)
        if match is None:
            raise ValueError(f"{path}: not a checkpoint file name (epNNNN.pth)")
        return int(match.group(1))

    @property
    def config_path(self) -> Path:
        return self.folder / "config.yaml"

    def epochs(self) -> list[int]:
        """Epochs with a checkpoint file, ascending."""
        if not self.folder.is_dir():
            return []
        found = (PATTERN.match(p.name) for p in self.folder.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def latest(self) -> Path | None:
        """The newest checkpoint, or None."""
        epochs = self.epochs()
        return self.path(epochs[-1]) if epochs else None

    def prune(self, config: TrainConfig) -> None:
        """Delete checkpoints that are neither among the last ``keep_last`` nor milestones."""
        epochs = self.epochs()
        recent = set(epochs[-config.keep_last:])
        for epoch in epochs:
            milestone = (epoch in config.keep_epochs or epoch == config.epochs
                         or (config.keep_every and epoch % config.keep_every == 0))
            if epoch not in recent and not milestone:
                self.path(epoch).unlink(missing_ok=True)
                logger.debug("removed old checkpoint %s", self.path(epoch))
