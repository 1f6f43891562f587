"""DataLoader for episode samplers: per-rank index split, epoch-tagged indices, seeded workers.

Each index is sent to the workers together with its epoch, so persistent workers draw the
right epoch's episodes, and the sampler seeds each episode by ``(seed, epoch, index)``: the
batches are identical for any number of workers, and rank ``r`` of ``W`` gets exactly the
samples ``r, r+W, r+2W, ...`` of the single-process order (``DistributedSampler`` without
shuffling), so its k-th batches over all ranks form the single-process k-th global batch.
"""
from __future__ import annotations

import random
from typing import Iterator

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from ltr.admin.seeding import derive_seed
from ltr.data.allocator import keep_freed_buffers


class EpochIndexSampler(Sampler[tuple[int, int]]):
    """Yields ``(epoch, index)`` for this rank's share ``rank::world_size`` of ``range(length)``.

    The tail that does not divide evenly among ranks is dropped so every rank runs the same
    number of steps.
    """

    def __init__(self, length: int, rank: int = 0, world_size: int = 1, epoch: int = 0) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world size {world_size}")
        self.length, self.rank, self.world_size, self.epoch = length, rank, world_size, epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[int, int]]:
        usable = self.length - self.length % self.world_size
        for index in range(self.rank, usable, self.world_size):
            yield self.epoch, index

    def __len__(self) -> int:
        return self.length // self.world_size


def _seed_worker(worker_id: int) -> None:
    """Worker start: python/numpy seeded from torch's per-worker seed.

    No OpenCV call here: cv2.setNumThreads in a forked child can deadlock on the parent's
    thread pool, so :func:`build_loader` sets one OpenCV thread in the parent before forking.
    """
    seed = torch.initial_seed()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    keep_freed_buffers()  # inherited through fork already; spawned workers need it here


def build_loader(
    dataset: Dataset,
    batch_size: int,
    num_workers: int = 0,
    epoch: int = 0,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    persistent_workers: bool = False,
    pin_memory: bool = False,
    drop_last: bool = True,
) -> DataLoader:
    """A DataLoader over ``dataset`` (an episode sampler) for one rank; change epochs with
    :func:`set_loader_epoch`. Samples (dicts of tensors) are stacked by ``default_collate``."""
    generator = torch.Generator().manual_seed(derive_seed(seed, rank))
    keep_freed_buffers()  # episodes reuse their buffers instead of page-faulting fresh ones
    if num_workers > 0:
        cv2.setNumThreads(1)  # workers crop in parallel; set before forking (see _seed_worker)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=EpochIndexSampler(len(dataset), rank, world_size, epoch),
        num_workers=num_workers,
        collate_fn=default_collate,
        pin_memory=pin_memory,
        drop_last=drop_last,
        worker_init_fn=_seed_worker,
        generator=generator,
        persistent_workers=persistent_workers and num_workers > 0,
    )


def set_loader_epoch(loader: DataLoader, epoch: int) -> None:
    """Make the next iteration of ``loader`` yield epoch ``epoch``'s samples."""
    sampler = loader.sampler
    if not isinstance(sampler, EpochIndexSampler):
        raise TypeError("loader was not built by build_loader")
    sampler.set_epoch(epoch)
