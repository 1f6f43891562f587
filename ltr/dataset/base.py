"""The interface every training dataset implements (pytracking's BaseVideoDataset, trimmed).

A dataset gives raw access only: a sequence list, per-sequence annotations, and frames.
Sampling, cropping and augmentation happen downstream (samplers, processing).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ltr.admin.registry import Registry

TRAIN_DATASETS = Registry(
    "training dataset",
    modules=[
        "ltr.dataset.got10k",
        "ltr.dataset.lasot",
        "ltr.dataset.trackingnet",
        "ltr.dataset.coco",
        "ltr.dataset.youtubevos",
        "ltr.dataset.synthetic.training",
        "ltr.dataset.image_folder",
    ],
)


class BaseVideoDataset:
    """Raw access to annotated video sequences (an image dataset is one-frame sequences).

    Conventions: frames are RGB ``uint8`` arrays ``H x W x 3``; boxes are float32 ``x, y, w, h``
    tensors in pixels; masks are ``uint8`` ``H x W`` arrays with values {0, 1}.
    """

    name: str = "base"

    def __len__(self) -> int:
        return self.get_num_sequences()

    def get_num_sequences(self) -> int:
        raise NotImplementedError

    def is_video_sequence(self) -> bool:
        """False for image datasets (COCO): every sequence has a single frame."""
        return True

    def has_masks(self) -> bool:
        """Whether :meth:`get_frames` returns a ``mask`` annotation."""
        return False

    def get_sequence_name(self, seq_id: int) -> str:
        raise NotImplementedError

    def get_num_frames(self, seq_id: int) -> int:
        return int(self.get_sequence_info(seq_id)["bbox"].shape[0])

    def get_sequence_info(self, seq_id: int) -> dict[str, torch.Tensor]:
        """Cheap per-sequence annotations (no image decoding).

        Returns ``bbox`` (N x 4 float32), ``valid`` (N bool: box usable), ``visible``
        (N bool: target in view) and ``visible_ratio`` (N float32 in [0, 1]).
        """
        raise NotImplementedError

    def get_frames(
        self, seq_id: int, frame_ids: Sequence[int], anno: dict[str, Any] | None = None
    ) -> tuple[list[np.ndarray], dict[str, list], dict[str, Any]]:
        """Frames ``frame_ids`` of a sequence with their per-frame annotations and metadata.

        Returns ``(frames, anno, meta)``: ``anno['bbox']`` is a list of 4-element tensors
        (plus ``anno['mask']`` when :meth:`has_masks`), and ``meta`` holds sequence-level
        facts such as ``object_class``.
        """
        raise NotImplementedError
