"""Benchmark experiments: ``experiments/<benchmark>.yaml`` validated by the dataclasses below.

YAML shape::

    dataset: {name: got10k, split: val, root: null, options: {}}
    trackers:
      - {name: static}
      - {name: gt_noise, config: null, runs: 3, display_name: GT+noise, overrides: [center_noise=0.1]}
      - {name: bit, config: default, checkpoint: /path/bit.pth}
    results_only:
      - {name: SiamFC, folder: /data/results/SiamFC}            # <seq>.txt boxes
      - {name: Peer, folder: /data/Peer_got10k.zip, layout: got10k}  # any toolkit layout, zips too
    sequences: []        # a subset by name; empty = all
    attribute: null      # or only the sequences with this attribute tag
    workers: 2          # processes (a fresh one per job); 0 = in this process, for debugging
    gpus: []             # GPU ids the workers are spread over (each pinned to one); [] = as visible
    seed: 0
    analyze: true        # run pytracking.analyze afterwards when it exists

``--set workers=4 dataset.split=test`` overrides keys from the command line.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltr.config.experiment import experiment_path
from ltr.admin.names import name_problem
from ltr.config.loader import ConfigError, load_config


@dataclass
class DatasetEntry:
    """Which evaluation dataset (registry name), split, root (None: from the paths file) and options."""

    name: str = "synthetic"
    split: str | None = None
    root: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


MAX_RUNS = 1000
"""Most repetitions of one tracker (VOT uses 15, GOT-10k 3): a typo such as 100000000 is refused."""


@dataclass
class TrackerEntry:
    """One tracker configuration: registry name, config (name or YAML path), checkpoint, runs."""

    name: str = "static"
    config: str | None = None
    checkpoint: str | None = None
    runs: int = field(default=1, metadata={"min": 1, "max": MAX_RUNS})
    display_name: str | None = None
    overrides: list[str] = field(default_factory=list)


@dataclass
class ResultsOnlyEntry:
    """A method known only by its raw results: a folder or zip in ``layout`` — ``auto``, ``plain``
    (``<seq>.txt``), ``got10k`` (``<seq>/<seq>_001.txt`` repetitions) or ``vot`` (supervised or
    multistart trajectories); see ``pytracking.analysis.raw_import``."""

    name: str = ""
    folder: str = ""
    display_name: str | None = None
    layout: str = "auto"


@dataclass
class Experiment:
    """A benchmark run: sequences x trackers x runs, plus results-only methods."""

    name: str = ""
    dataset: DatasetEntry = field(default_factory=DatasetEntry)
    trackers: list[TrackerEntry] = field(default_factory=list)
    results_only: list[ResultsOnlyEntry] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)
    attribute: str | None = None
    workers: int = field(default=1, metadata={"min": 0})
    gpus: list[int] = field(default_factory=list, metadata={"min": 0})  # workers round-robin over these
    seed: int = 0
    analyze: bool = True


def load_experiment(name: str, overrides: Iterable[str] = ()) -> Experiment:
    """Load ``experiments/<name>.yaml`` (or a YAML path); ``name`` defaults to the file's stem."""
    path = experiment_path(None, name)
    experiment = load_config(path, Experiment, list(overrides))
    if not experiment.name:
        experiment.name = Path(path).stem
    problem = name_problem(experiment.name)
    if problem:  # it names the results and analysis folders
        raise ConfigError(f"{path}: name {experiment.name!r} {problem}; it must be one plain folder name")
    return experiment
