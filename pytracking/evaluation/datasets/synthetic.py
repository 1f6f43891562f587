"""The built-in synthetic benchmark: GOT-10k layout under ``<root>/<split>/`` plus ``attributes.json``.

Unlike GOT-10k, every split (train/val/test) has full ground truth. ``<split>/attributes.json``
maps each sequence to its tags (``{seq: [tags]}``); :meth:`subset` filters by tag.

``generator`` options (``num_sequences``, ``base_seed``, ``workers``, ``jpeg_quality`` and any
``SyntheticParams`` field such as ``num_frames``, ``width``, ``height``) make sure the split on disk
is the one they describe: ``ltr.dataset.synthetic.benchmark.materialise_split`` writes it on first
use (crash-safe, resumable), keeps it when it matches, and refuses a split made with other
settings. Without options, a complete split on disk is read as it is, and a missing one is
written with the generator's defaults. Generation holds ``<root>/.<split>.lock``
(:func:`ltr.admin.lock.workspace_lock`), so concurrent runs on a fresh workspace wait for one
writer instead of deleting each other's staging folders.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ltr.admin.lock import workspace_lock
from pytracking.evaluation.annotations import AnnotationError
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.got10k import Got10kLayout

SPLIT_OPTIONS = ("num_sequences", "base_seed", "workers", "jpeg_quality")


def materialise(root: Path, split: str, options: dict[str, Any]) -> None:
    """Write (or check) the synthetic split with ``options``: split-level keys plus generator params."""
    from ltr.dataset.synthetic.benchmark import materialise_split
    from ltr.dataset.synthetic.params import SyntheticParams

    params = SyntheticParams.from_dict({k: v for k, v in options.items() if k not in SPLIT_OPTIONS})
    with workspace_lock(Path(root) / f".{split}.lock", f"generating the synthetic '{split}' split"):
        materialise_split(root, split, params=params, **{k: v for k, v in options.items() if k in SPLIT_OPTIONS})


@EVAL_DATASETS.register("synthetic")
class SyntheticBenchmark(Got10kLayout):
    """Synthetic sequences with attribute tags; splits ``test`` (default), ``val``, ``train``."""

    name = "synthetic"
    paths_key = "synthetic"
    splits = ("test", "val", "train")

    def __init__(self, root: str | Path | None = None, split: str | None = None,
                 generator: dict[str, Any] | None = None) -> None:
        super().__init__(root, split)
        self.generator = dict(generator or {})
        self._tags: dict[str, list[str]] | None = None

    def _names(self) -> list[str]:
        if self.generator or not (self._split_dir() / "list.txt").is_file():
            materialise(self.root, self.split, self.generator)
        return super()._names()

    @property
    def attribute_names(self) -> dict[str, str]:  # type: ignore[override]
        return {tag: tag for tags in self._attribute_table().values() for tag in tags}

    def _attribute_table(self) -> dict[str, list[str]]:
        if self._tags is None:
            path = self._split_dir() / "attributes.json"
            try:
                table = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
            except json.JSONDecodeError as err:
                raise AnnotationError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
            if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
                raise AnnotationError(f"{path}: expected a mapping {{sequence: [tags]}}")
            self._tags = {k: [str(t) for t in v] for k, v in table.items()}
        return self._tags

    def sequence_attributes(self, name: str) -> list[str]:
        return list(self._attribute_table().get(name, []))
