"""Evaluation datasets, one module per benchmark, registered by name in ``EVAL_DATASETS``.

``load_dataset("otb")`` reads the root configured for the benchmark (``ltr.admin.paths``);
``load_dataset("got10k", split="val", root=...)`` picks a split and an explicit folder.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ltr.admin.registry import Registry
from pytracking.evaluation.datasets.base import EvalDataset

DATASET_MODULES = [
    "pytracking.evaluation.datasets.otb",
    "pytracking.evaluation.datasets.lasot",
    "pytracking.evaluation.datasets.got10k",
    "pytracking.evaluation.datasets.trackingnet",
    "pytracking.evaluation.datasets.uav",
    "pytracking.evaluation.datasets.nfs",
    "pytracking.evaluation.datasets.vot",
    "pytracking.evaluation.datasets.lasot_ext",
    "pytracking.evaluation.datasets.tnl2k",
    "pytracking.evaluation.datasets.tc128",
    "pytracking.evaluation.datasets.avist",
    "pytracking.evaluation.datasets.synthetic",
    "pytracking.evaluation.datasets.real",
]
EVAL_DATASETS = Registry("evaluation dataset", modules=DATASET_MODULES)


def load_dataset(name: str, split: str | None = None, root: str | Path | None = None, **options: Any) -> EvalDataset:
    """Build the evaluation dataset registered as ``name`` (options are per-benchmark keywords)."""
    return EVAL_DATASETS.build(name, root=root, split=split, **options)


__all__ = ["DATASET_MODULES", "EVAL_DATASETS", "EvalDataset", "load_dataset"]
