"""torch.distributed helpers: the process's place in the job, barriers, reductions.

Launched by ``torchrun`` the environment holds ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
otherwise the job is one process. NCCL is used with GPUs, gloo on CPU.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ltr.admin.devices import resolve_device


@dataclass(frozen=True)
class DistContext:
    """Rank, world size and device of this process."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0 logs and writes checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str | None = None) -> DistContext:
    """Join the torchrun job when launched by it (else a single process); pick the device.

    ``device`` forces ``cpu`` or ``cuda``; by default a GPU is used when one is visible.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device is None else resolve_device(device).type == "cuda"
    target = torch.device(f"cuda:{local_rank}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(target)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo", rank=rank, world_size=world_size)
    return DistContext(rank, world_size, local_rank, target)


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op in a single process)."""
    if ctx.distributed:
        dist.barrier()


def reduce_stats(ctx: DistContext, sums: dict[str, float], count: int) -> dict[str, float]:
    """Averages of per-rank stat sums over all ranks' samples, same keys on every rank."""
    keys = sorted(sums)
    values = torch.tensor([sums[k] for k in keys] + [float(count)], dtype=torch.float64, device=ctx.device)
    if ctx.distributed:
        dist.all_reduce(values)
    total = max(values[-1].item(), 1.0)
    return {k: v / total for k, v in zip(keys, values[:-1].tolist())}


def reduce_sum(ctx: DistContext, value: float) -> float:
    """Sum of a number over all ranks."""
    if not ctx.distributed:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(tensor)
    return tensor.item()


def shutdown(ctx: DistContext) -> None:
    """Leave the process group."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()
