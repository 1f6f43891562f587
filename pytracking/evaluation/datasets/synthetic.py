"""The built-in synthetic benchmark: GOT-10k layout under ``<root>/<split>/`` plus ``attributes.json``.

Unlike GOT-10k, every split (train/val/test) has full ground truth. ``<split>/attributes.json``
maps each sequence to its tags (``{seq: [tags]}``); :meth:`subset` filters by tag.

One definition per name: the benchmark is :data:`DEFAULT_GENERATOR` (20 sequences x 100 frames
at 320x240, what the README's main job runs) in ``<root>/<split>/``. ``generator`` options
(``num_sequences``, ``base_seed``, ``workers``, ``jpeg_quality`` and any ``SyntheticParams``
field such as ``num_frames``, ``width``, ``height``) that define another benchmark get a folder of
their own, ``<root>/<split>-<hash of the definition>/``, so two definitions never overwrite or
silently replace each other. ``ltr.dataset.synthetic.benchmark.materialise_split`` writes a split
on first use (crash-safe, resumable) and keeps it when it matches. Without options, a split
already on disk is read as it is, and a missing one is written with :data:`DEFAULT_GENERATOR`.
Generation holds ``<root>/.<folder>.lock`` (:func:`ltr.admin.lock.workspace_lock`), so concurrent
runs on a fresh workspace wait for one writer instead of deleting each other's staging folders.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ltr.admin.lock import workspace_lock
from pytracking.evaluation.annotations import AnnotationError
from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.got10k import Got10kLayout

SPLIT_OPTIONS = ("num_sequences", "base_seed", "workers", "jpeg_quality")
NOT_DEFINING = ("workers",)  # options that change how a split is written, not what it holds
DEFAULT_GENERATOR: dict[str, Any] = {"num_sequences": 20, "num_frames": 100, "width": 320, "height": 240}


def definition_key(options: dict[str, Any]) -> str:
    """A short stable hash of the options that define a split's content."""
    defining = {k: v for k, v in sorted(options.items()) if k not in NOT_DEFINING}
    return hashlib.sha256(json.dumps(defining, sort_keys=True).encode()).hexdigest()[:8]


def materialise_at(split_dir: Path, split: str, options: dict[str, Any], prefix: str = "Synthetic") -> None:
    """Write (or check) the synthetic ``split`` in ``split_dir`` with ``options``: split-level keys
    plus generator params."""
    from ltr.dataset.synthetic.benchmark import materialise_split
    from ltr.dataset.synthetic.params import SyntheticParams

    params = SyntheticParams.from_dict({k: v for k, v in options.items() if k not in SPLIT_OPTIONS})
    with workspace_lock(split_dir.parent / f".{split_dir.name}.lock", f"generating the '{split_dir.name}' split"):
        materialise_split(split_dir.parent, split, params=params, prefix=prefix, folder=split_dir.name,
                          **{k: v for k, v in options.items() if k in SPLIT_OPTIONS})


@EVAL_DATASETS.register("synthetic")
class SyntheticBenchmark(Got10kLayout):
    """Synthetic sequences with attribute tags; splits ``test`` (default), ``val``, ``train``."""

    name = "synthetic"
    paths_key = "synthetic"
    splits = ("test", "val", "train")

    sequence_prefix = "Synthetic"

    def __init__(self, root: str | Path | None = None, split: str | None = None,
                 generator: dict[str, Any] | None = None) -> None:
        super().__init__(root, split)
        self.generator = dict(generator or {})
        self._tags: dict[str, list[str]] | None = None

    def _split_dir(self) -> Path:
        """``<root>/<split>`` for the default definition, ``<root>/<split>-<hash>`` for another."""
        defining = {k: v for k, v in self.generator.items() if k not in NOT_DEFINING}
        if not defining or {**DEFAULT_GENERATOR, **defining} == DEFAULT_GENERATOR:
            return self.root / self.split
        return self.root / f"{self.split}-{definition_key({**DEFAULT_GENERATOR, **defining})}"

    def _names(self) -> list[str]:
        if self.generator or not (self._split_dir() / "list.txt").is_file():
            materialise_at(self._split_dir(), self.split, self.generator_options(), self.sequence_prefix)
        return super()._names()

    def generator_options(self) -> dict[str, Any]:
        """The generator options the split on disk must match: the defaults under the experiment's."""
        return {**DEFAULT_GENERATOR, **self.generator}

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
