"""The synthetic training dataset: sequences generated on the fly from seeds, nothing on disk.

``SyntheticTrainingDataset(num_sequences=1000)`` is a virtual dataset whose sequence ``k`` is
``SyntheticSequence(sequence_seed(split, k, base_seed))``. Annotations are cheap (no rendering)
and only the frames a sampler asks for are rendered.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ltr.dataset.base import TRAIN_DATASETS, BaseVideoDataset
from ltr.dataset.synthetic.params import SyntheticParams
from ltr.dataset.synthetic.sequence import SyntheticSequence
from ltr.dataset.synthetic.splits import sequence_name, sequence_seed


@TRAIN_DATASETS.register("synthetic")
class SyntheticTrainingDataset(BaseVideoDataset):
    """Generated video sequences with exact boxes, visibility and masks.

    ``split`` picks a disjoint seed block (train by default, so a materialised ``test`` split is
    never trained on); ``params`` is a :class:`SyntheticParams` or a mapping of its fields;
    ``cache_size`` sequences keep their geometry and textures between calls.
    """

    name = "synthetic"

    def __init__(self, num_sequences: int = 1000, split: str = "train", base_seed: int = 0,
                 params: SyntheticParams | Mapping[str, Any] | None = None, cache_size: int = 8) -> None:
        if isinstance(num_sequences, bool) or not isinstance(num_sequences, int) or num_sequences < 1:
            raise ValueError(f"num_sequences must be an integer >= 1, got {num_sequences!r}")
        sequence_seed(split, num_sequences - 1, base_seed)  # validates split, range and base seed
        self.num_sequences = num_sequences
        self.split = split
        self.base_seed = base_seed
        self.params = params if isinstance(params, SyntheticParams) else SyntheticParams.from_dict(params or {})
        self.cache_size = max(1, cache_size)
        self._cache: OrderedDict[int, SyntheticSequence] = OrderedDict()

    def get_num_sequences(self) -> int:
        return self.num_sequences

    def has_masks(self) -> bool:
        return True

    def get_sequence_name(self, seq_id: int) -> str:
        self._check_id(seq_id)
        return sequence_name(self.split, seq_id)

    def get_num_frames(self, seq_id: int) -> int:
        self._check_id(seq_id)
        return self.params.num_frames

    def sequence(self, seq_id: int) -> SyntheticSequence:
        """The generator object of sequence ``seq_id`` (kept in a small LRU cache)."""
        self._check_id(seq_id)
        if seq_id in self._cache:
            self._cache.move_to_end(seq_id)
        else:
            self._cache[seq_id] = SyntheticSequence(sequence_seed(self.split, seq_id, self.base_seed), self.params)
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return self._cache[seq_id]

    def get_sequence_info(self, seq_id: int) -> dict[str, torch.Tensor]:
        geometry = self.sequence(seq_id).geometry
        bbox = torch.from_numpy(geometry.boxes.astype(np.float32))
        return {
            "bbox": bbox,
            "valid": (bbox[:, 2] > 0) & (bbox[:, 3] > 0),
            "visible": torch.from_numpy(geometry.visible_pixels > 0),
            "visible_ratio": torch.from_numpy(geometry.visible_ratio.astype(np.float32)),
        }

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], anno: dict[str, Any] | None = None
                   ) -> tuple[list[np.ndarray], dict[str, list], dict[str, Any]]:
        sequence = self.sequence(seq_id)
        anno = self.get_sequence_info(seq_id) if anno is None else anno
        rendered = [sequence.render_frame(int(f)) for f in frame_ids]
        frame_anno: dict[str, list] = {key: [value[f].clone() for f in frame_ids] for key, value in anno.items()}
        frame_anno["mask"] = [mask for _, mask in rendered]
        meta = {**sequence.meta(), "attributes": list(sequence.attributes)}
        return [image for image, _ in rendered], frame_anno, meta

    def _check_id(self, seq_id: int) -> None:
        if not 0 <= seq_id < self.num_sequences:
            raise IndexError(f"sequence {seq_id} out of range for {self.num_sequences} synthetic sequences")
