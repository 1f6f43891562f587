"""Seeds and names of the synthetic splits: ``train``, ``val`` and ``test`` never share a seed.

Sequence ``index`` of a split has seed ``base_seed * 3e9 + split offset + index``; each split owns
a block of ``SPLIT_STRIDE`` seeds, so the training data can never contain a test sequence.
"""
from __future__ import annotations

SPLITS = ("train", "val", "test")
SPLIT_STRIDE = 1_000_000_000


def _check(split: str, index: int, base_seed: int) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown synthetic split '{split}'; known: {', '.join(SPLITS)}")
    if not 0 <= index < SPLIT_STRIDE:
        raise ValueError(f"sequence index {index} outside [0, {SPLIT_STRIDE})")
    if base_seed < 0:
        raise ValueError(f"base_seed must be >= 0, got {base_seed}")


def sequence_seed(split: str, index: int, base_seed: int = 0) -> int:
    """The generator seed of sequence ``index`` (0-based) of ``split``."""
    _check(split, index, base_seed)
    return (base_seed * len(SPLITS) + SPLITS.index(split)) * SPLIT_STRIDE + index


def sequence_name(split: str, index: int, prefix: str = "Synthetic") -> str:
    """GOT-10k-style folder name of sequence ``index`` (0-based): ``Synthetic_Test_000001``."""
    _check(split, index, 0)
    return f"{prefix}_{split.capitalize()}_{index + 1:06d}"
