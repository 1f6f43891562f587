"""Training episode samplers: which frames of which sequence make one training sample.

:class:`EpisodeSampler` is a map-style torch ``Dataset``: ``sampler[(epoch, index)]`` draws one
episode with a generator seeded by ``(seed, epoch, index)`` alone, so the data does not depend
on the number of workers or ranks (each rank takes its own global indices), and a resumed run
sees exactly the episodes of an uninterrupted one.

Frame-selection modes (:class:`~ltr.config.train.SamplerConfig`):

* ``pair``: ``num_search`` search frames and ``num_templates`` templates, all visible and
  within ``max_gap`` frames of the first search frame.
* ``trident`` (STARK ``trident_pro``): an initial template and the search frame(s) are any
  visible frames; each further (dynamic) template lies within ``max_gap`` of the first search
  frame, on the side facing the initial template, and may be an invisible (but valid) frame.
* ``segmentation`` (JCAT/D3S): like ``pair``, but every frame carries a mask; templates are the
  reference frames, search frames the test frames.

Negative episodes (probability ``negative_prob``, label 0) replace the search frames by frames
of the same sequence where the target is absent (the box of the nearest valid frame stands in
as a fake box) or by a visible frame of another sequence with that sequence's box.

A frame that cannot be read (:class:`~ltr.data.image_io.ImageReadError`) is logged, counted in
``stats['corrupt_frames']`` and in the sample's ``skipped_corrupt`` entry, and the episode is
drawn again; so is an episode that processing rejects (:class:`RejectEpisode`).
"""
from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ltr.admin.seeding import episode_rng
from ltr.config.train import SamplerConfig
from ltr.data.image_io import ImageReadError
from ltr.dataset.base import BaseVideoDataset

logger = logging.getLogger(__name__)


class RejectEpisode(Exception):
    """Raised by processing for an episode that must be drawn again (e.g. all padding)."""


@dataclass
class FrameGroup:
    """Frames of one role (templates or search frames) with their boxes and optional masks."""

    frames: list[np.ndarray]
    boxes: list[np.ndarray]  # float64 x, y, w, h in image pixels
    masks: list[np.ndarray] | None = None
    frame_ids: list[int] = field(default_factory=list)
    seq_id: int = -1
    dataset: str = ""


@dataclass
class Episode:
    """One raw training episode; ``label`` is 1 when the search frames show the target."""

    template: FrameGroup
    search: FrameGroup
    label: float = 1.0


Processing = Callable[[Episode, np.random.Generator], dict[str, torch.Tensor]]


@dataclass
class FrameSelection:
    """Chosen frame ids of one sequence (search ids may be replaced for negatives)."""

    template_ids: list[int]
    search_ids: list[int]


def _sample_ids(rng: np.random.Generator, allowed: np.ndarray, count: int,
                lo: int = 0, hi: int | None = None) -> list[int] | None:
    """``count`` ids drawn with replacement among ``allowed`` ids in ``[lo, hi)``; None if none."""
    hi = len(allowed) if hi is None else hi
    lo, hi = max(lo, 0), min(hi, len(allowed))
    candidates = np.flatnonzero(allowed[lo:hi]) + lo if hi > lo else np.empty(0, np.int64)
    if candidates.size == 0:
        return None
    return [int(i) for i in rng.choice(candidates, size=count, replace=True)]


def select_frames(rng: np.random.Generator, visible: np.ndarray, valid: np.ndarray,
                  config: SamplerConfig) -> FrameSelection | None:
    """Frame ids of one positive episode by ``config.mode``; None when this draw fails."""
    gap = config.max_gap
    search = _sample_ids(rng, visible, config.num_search)
    if search is None:
        return None
    anchor = search[0]
    if config.mode == "trident":
        initial = _sample_ids(rng, visible, 1)
        if initial is None:
            return None
        if initial[0] >= anchor:
            lo, hi = anchor, anchor + gap + 1
        else:
            lo, hi = anchor - gap, anchor + 1
        dynamic: list[int] = []
        if config.num_templates > 1:
            dynamic = _sample_ids(rng, valid, config.num_templates - 1, lo, hi) or []
            if not dynamic:
                return None
        return FrameSelection(initial + dynamic, search)
    lo, hi = anchor - gap, anchor + gap + 1
    others = _sample_ids(rng, visible, config.num_search - 1, lo, hi) if config.num_search > 1 else []
    templates = _sample_ids(rng, visible, config.num_templates, lo, hi)
    if templates is None or others is None:
        return None
    return FrameSelection(templates, [anchor] + others)


def nearest_valid_box(boxes: torch.Tensor, valid: np.ndarray, frame: int) -> np.ndarray:
    """The box of the valid frame nearest to ``frame`` (the fake box of an absent-target frame)."""
    ids = np.flatnonzero(valid)
    nearest = ids[np.argmin(np.abs(ids - frame))]
    return boxes[nearest].double().numpy()


class EpisodeSampler(torch.utils.data.Dataset):
    """Draws training episodes from a weighted mix of datasets; see the module docstring."""

    def __init__(
        self,
        datasets: Sequence[BaseVideoDataset],
        config: SamplerConfig,
        processing: Processing | None = None,
        weights: Sequence[float] | None = None,
        samples_per_epoch: int = 1000,
        seed: int = 0,
    ) -> None:
        if not datasets:
            raise ValueError("EpisodeSampler needs at least one dataset")
        weights = [1.0] * len(datasets) if weights is None else [float(w) for w in weights]
        if len(weights) != len(datasets) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"dataset weights {weights} must be non-negative, one per dataset, not all 0")
        if config.mode == "segmentation":
            missing = [d.name for d in datasets if not d.has_masks()]
            if missing:
                raise ValueError(f"segmentation episodes need masks; dataset(s) without masks: {missing}")
        empty = [d.name for d in datasets if d.get_num_sequences() < 1]
        if empty:
            raise ValueError(f"training dataset(s) without sequences: {empty}")
        if config.negative_prob > 0 and sum(d.get_num_sequences() for d in datasets) < 2:
            raise ValueError("negative episodes (sampler.negative_prob > 0) need at least two sequences: with one, "
                             "the 'other sequence' search frames would show the target itself under label 0")
        self.datasets = list(datasets)
        self.probs = np.asarray(weights) / sum(weights)
        self.config = config
        self.processing = processing
        self.samples_per_epoch = samples_per_epoch
        self.seed = seed
        self.epoch = 0
        self.stats: collections.Counter[str] = collections.Counter()

    def __len__(self) -> int:
        return self.samples_per_epoch

    def set_epoch(self, epoch: int) -> None:
        """Epoch used when an item is requested by a plain integer index."""
        self.epoch = epoch

    def __getitem__(self, key: int | tuple[int, int]) -> Any:
        """Episode ``index`` of ``epoch`` (``key`` is ``(epoch, index)`` or an index).

        With processing, returns its dict of tensors plus ``skipped_corrupt`` and
        ``skipped_rejected`` (episodes redrawn before this one); without, the raw :class:`Episode`.
        """
        epoch, index = key if isinstance(key, tuple) else (self.epoch, key)
        rng = episode_rng(self.seed, epoch, index)
        corrupt = rejected = 0
        for _ in range(self.config.max_attempts):
            try:
                episode = self.sample_episode(rng)
                if self.processing is None:
                    return episode
                sample = self.processing(episode, rng)
            except ImageReadError as err:
                corrupt += 1
                self.stats["corrupt_frames"] += 1
                logger.warning("skipping an episode with an unreadable frame: %s", err)
                continue
            except RejectEpisode:
                rejected += 1
                self.stats["rejected"] += 1
                continue
            sample["skipped_corrupt"] = torch.tensor(corrupt, dtype=torch.int64)
            sample["skipped_rejected"] = torch.tensor(rejected, dtype=torch.int64)
            return sample
        raise RuntimeError(
            f"no usable episode in {self.config.max_attempts} attempts (epoch {epoch}, index {index}): "
            f"{corrupt} had unreadable frames, {rejected} were rejected by processing"
        )

    def sample_episode(self, rng: np.random.Generator) -> Episode:
        """Draw one raw episode (frames decoded); raises ImageReadError on an unreadable frame."""
        dataset, seq_id, info, selection = self._draw_positive(rng)
        template = self._load(dataset, seq_id, info, selection.template_ids)
        if self.config.negative_prob > 0 and rng.random() < self.config.negative_prob:
            return Episode(template, self._negative_search(rng, dataset, seq_id, info), label=0.0)
        return Episode(template, self._load(dataset, seq_id, info, selection.search_ids), label=1.0)

    def _negative_search(self, rng: np.random.Generator, dataset: BaseVideoDataset, seq_id: int,
                         info: dict[str, torch.Tensor]) -> FrameGroup:
        """Search frames without the target: absent frames of this sequence with fake boxes when
        drawn (and available), otherwise visible frames of another sequence with its boxes."""
        kinds = self.config.negative_kinds
        if kinds[int(rng.integers(len(kinds)))] == "absent":
            ids = _sample_ids(rng, ~info["visible"].numpy().astype(bool), self.config.num_search)
            if ids is not None:
                group = self._load(dataset, seq_id, info, ids)
                valid = info["valid"].numpy().astype(bool)
                group.boxes = [nearest_valid_box(info["bbox"], valid, i) for i in ids]
                return group
        other, other_seq, other_info, other_selection = self._draw_positive(rng, exclude=(dataset, seq_id))
        return self._load(other, other_seq, other_info, other_selection.search_ids)

    def _draw_positive(
        self, rng: np.random.Generator, exclude: tuple[BaseVideoDataset, int] | None = None
    ) -> tuple[BaseVideoDataset, int, dict[str, torch.Tensor], FrameSelection]:
        for _ in range(self.config.max_attempts):
            dataset = self.datasets[int(rng.choice(len(self.datasets), p=self.probs))]
            seq_id = int(rng.integers(dataset.get_num_sequences()))
            if exclude is not None and (dataset, seq_id) == exclude:
                continue
            info = dataset.get_sequence_info(seq_id)
            visible = (info["visible"] & info["valid"]).numpy().astype(bool)
            if not dataset.is_video_sequence():
                if visible[:1].all():
                    return dataset, seq_id, info, FrameSelection(
                        [0] * self.config.num_templates, [0] * self.config.num_search)
                continue
            if visible.sum() < self.config.min_visible_frames:
                continue
            selection = select_frames(rng, visible, info["valid"].numpy().astype(bool), self.config)
            if selection is not None:
                return dataset, seq_id, info, selection
        raise RuntimeError(
            f"no sequence with at least {self.config.min_visible_frames} visible frames found for "
            f"'{self.config.mode}' episodes in {self.config.max_attempts} draws"
        )

    def _load(self, dataset: BaseVideoDataset, seq_id: int, info: dict[str, torch.Tensor] | None,
              frame_ids: list[int]) -> FrameGroup:
        frames, anno, _ = dataset.get_frames(seq_id, frame_ids, info)
        boxes = [torch.as_tensor(b).double().numpy() for b in anno["bbox"]]
        masks = [np.asarray(m) for m in anno["mask"]] if "mask" in anno else None
        return FrameGroup(list(frames), boxes, masks, list(frame_ids), seq_id, dataset.name)
