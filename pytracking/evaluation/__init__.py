"""Evaluation: benchmark datasets, the Sequence contract, the Tracker wrapper, the runner, results.

* ``datasets``: one reader per benchmark, ``load_dataset(name, split=..., root=...)`` (registry
  ``EVAL_DATASETS``); sequence tables and attribute names are package data in ``data/``.
* ``sequence.Sequence``: frames, ground truth, visibility, attributes, raw VOT regions, extras.
* ``tracker.Tracker``: a registered tracker built from (name, config, checkpoint), run on a sequence.
* ``experiment``: the typed schema of ``experiments/<benchmark>.yaml``.
* ``runner``: jobs in fresh worker processes, resume, shards, error records.
* ``results.RunDir``: the results layout the analysis reads; ``raw_results`` for other methods' folders.
"""
