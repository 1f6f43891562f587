"""The built-in real-imagery benchmark: real objects over real photos, GOT-10k layout, full ground truth.

Made like the synthetic benchmark (same generator, events and on-disk layout, written on first use
under ``<workspace>/data/real/<split>/``), but every target, look-alike, occluder and background is
real imagery from the **test part** of the project's real-image pool (:mod:`ltr.dataset.real_pool`):
held-out object stamps and the mate-backgrounds photos, which no training config uses. The camera
pans, zooms and shakes. Sequences are named ``Real_Test_000001``... The ``val`` split draws from the
training part of the pool instead (``Real_Val_...``): tune on it, report on ``test``.
"""
from __future__ import annotations

from typing import Any

from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.datasets.synthetic import (DEFAULT_GENERATOR, SPLIT_OPTIONS, SyntheticBenchmark,
                                                      materialise_at)


@EVAL_DATASETS.register("real")
class RealImageryBenchmark(SyntheticBenchmark):
    """Real objects over real backgrounds; split ``test`` (default) from the held-out part of the pool,
    ``val`` from the training part (other sequences than training draws), for tuning tracker settings
    without looking at the held-out media."""

    name = "real"
    paths_key = "real"
    splits = ("test", "val")
    sequence_prefix = "Real"

    def generator_options(self) -> dict[str, Any]:
        """The experiment's options over the real-media defaults, with the held-out pool's folders."""
        from ltr.dataset.image_folder import REAL_DEFAULTS
        from ltr.dataset.real_pool import build_pool, pool_folder

        options = dict(self.generator)
        if "object_folder" not in options or "background_folder" not in options:
            pool = build_pool()
            part = "test" if self.split == "test" else "train"
            options.setdefault("object_folder", str(pool_folder(pool, "objects", part)))
            options.setdefault("background_folder", str(pool_folder(pool, "backgrounds", part)))
        return {**DEFAULT_GENERATOR, **{k: v for k, v in REAL_DEFAULTS.items() if k not in SPLIT_OPTIONS}, **options}

    def _names(self) -> list[str]:
        materialise_at(self._split_dir(), self.split, self.generator_options(), self.sequence_prefix)
        return super(SyntheticBenchmark, self)._names()
