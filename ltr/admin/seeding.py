"""Seeding: derived seeds for each (run seed, epoch, rank, ...) and a deterministic mode.

Every source of randomness is seeded from a tuple of integers, so data episodes, workers and
ranks are reproducible and a resumed run draws exactly what an uninterrupted one would.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch


def derive_seed(*keys: int) -> int:
    """A 63-bit seed mixed from integer keys (numpy's SeedSequence hashing)."""
    state = np.random.SeedSequence([int(k) & 0xFFFFFFFFFFFFFFFF for k in keys]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & 0x7FFFFFFFFFFFFFFF


def episode_rng(*keys: int) -> np.random.Generator:
    """An independent numpy generator for one episode, keyed by e.g. ``(seed, epoch, index)``."""
    return np.random.default_rng([int(k) & 0xFFFFFFFFFFFFFFFF for k in keys])


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, numpy's global generator and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_deterministic(enabled: bool) -> None:
    """Deterministic kernels (and no cuDNN autotuning) when ``enabled``; fast defaults otherwise."""
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(enabled)
    torch.backends.cudnn.deterministic = enabled
    torch.backends.cudnn.benchmark = not enabled
