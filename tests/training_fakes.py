"""Test helpers for the training pipeline: a rendered-rectangle video dataset with masks.

Frames are a plain background with the target drawn as a pixel-aligned rectangle, so a test
can measure where the target ended up in a crop and compare it with the returned box.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ltr.data.image_io import ImageReadError
from ltr.dataset.base import TRAIN_DATASETS, BaseVideoDataset

BACKGROUND = (40, 80, 120)
TARGET = (250, 250, 250)


class RectangleDataset(BaseVideoDataset):
    """``num_sequences`` videos of ``num_frames`` frames with one moving rectangle each.

    ``absent`` frames show no target (visible and valid False); ``corrupt`` is a set of
    ``(seq_id, frame_id)`` whose reading raises :class:`ImageReadError`. ``reads`` records every
    ``(seq_id, frame_ids)`` request.
    """

    name = "rectangles"

    def __init__(self, num_sequences: int = 4, num_frames: int = 40, size: tuple[int, int] = (160, 120),
                 absent: Sequence[int] = (), corrupt: set[tuple[int, int]] | None = None,
                 masks: bool = True, images: bool = False) -> None:
        self.num_sequences = num_sequences
        self.num_frames = 1 if images else num_frames
        self.width, self.height = size
        self.absent = set(absent)
        self.corrupt = corrupt or set()
        self.masks = masks
        self.images = images
        self.reads: list[tuple[int, list[int]]] = []

    def get_num_sequences(self) -> int:
        return self.num_sequences

    def is_video_sequence(self) -> bool:
        return not self.images

    def has_masks(self) -> bool:
        return self.masks

    def get_sequence_name(self, seq_id: int) -> str:
        return f"rect-{seq_id:03d}"

    def box(self, seq_id: int, frame_id: int) -> np.ndarray:
        """Pixel-aligned box of the target in a frame (x, y, w, h)."""
        w = 24 + 4 * (seq_id % 3)
        h = 18 + 3 * ((seq_id + frame_id) % 4)
        x = 10 + (2 * frame_id + 7 * seq_id) % (self.width - w - 20)
        y = 8 + (frame_id + 5 * seq_id) % (self.height - h - 16)
        return np.array([x, y, w, h], np.float32)

    def get_sequence_info(self, seq_id: int) -> dict[str, torch.Tensor]:
        boxes = torch.from_numpy(np.stack([self.box(seq_id, f) for f in range(self.num_frames)]))
        visible = torch.tensor([f not in self.absent for f in range(self.num_frames)])
        return {"bbox": boxes, "valid": visible.clone(), "visible": visible, "visible_ratio": visible.float()}

    def render(self, seq_id: int, frame_id: int) -> tuple[np.ndarray, np.ndarray]:
        """The frame and its target mask."""
        frame = np.empty((self.height, self.width, 3), np.uint8)
        frame[:] = BACKGROUND
        mask = np.zeros((self.height, self.width), np.uint8)
        if frame_id not in self.absent:
            x, y, w, h = (int(v) for v in self.box(seq_id, frame_id))
            frame[y:y + h, x:x + w] = TARGET
            mask[y:y + h, x:x + w] = 1
        return frame, mask

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], anno: dict[str, Any] | None = None):
        self.reads.append((seq_id, list(frame_ids)))
        for f in frame_ids:
            if (seq_id, f) in self.corrupt:
                raise ImageReadError(f"rect-{seq_id:03d}/{f:08d}.jpg: corrupt or truncated JPEG")
        rendered = [self.render(seq_id, f) for f in frame_ids]
        result: dict[str, list] = {"bbox": [torch.from_numpy(self.box(seq_id, f)) for f in frame_ids]}
        if self.masks:
            result["mask"] = [m for _, m in rendered]
        return [f for f, _ in rendered], result, {"object_class": "rectangle"}


def register() -> None:
    """Register :class:`RectangleDataset` as training dataset ``rectangles`` (idempotent)."""
    if "rectangles" not in TRAIN_DATASETS:
        TRAIN_DATASETS.register("rectangles")(RectangleDataset)
