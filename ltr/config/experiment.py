"""Find and load per-experiment parameter files: ``experiments/<tracker>/<name>.yaml``.

Each tracker registers the dataclass that validates its files in ``TRACKER_SCHEMAS``; benchmark
experiment files (``experiments/<benchmark>.yaml``) are validated by the evaluation schema.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from ltr.admin.names import name_problem
from ltr.admin.registry import Registry
from ltr.config.loader import ConfigError, load_config

TRACKER_SCHEMAS = Registry("tracker experiment schema", modules=["ltr.models.tiny_net", "ltr.models.jcat.experiment", "ltr.models.bit.experiment"])
EXPERIMENTS_ENV = "PYTRACKING_EXPERIMENTS"


def experiments_dir() -> Path:
    """The experiments folder: ``$PYTRACKING_EXPERIMENTS`` or ``experiments/`` beside the packages."""
    env = os.environ.get(EXPERIMENTS_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "experiments"


def experiment_path(tracker: str | None, name: str) -> Path:
    """Path of an experiment file; ``name`` may also be a path to a YAML file."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return candidate
    problem = name_problem(name)
    if problem:  # it also names the output folders: ../x or /abs would put them outside the workspace
        raise ConfigError(f"experiment name {name!r} {problem}; give a name from experiments/ or a path ending in "
                          ".yaml")
    folder = experiments_dir() / tracker if tracker else experiments_dir()
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(list_experiments(tracker)) or "(none)"
        raise ConfigError(f"{path}: no such experiment '{name}'; known: {known}")
    return path


def list_experiments(tracker: str | None = None) -> list[str]:
    """Names of the experiment files of a tracker (or the benchmark experiments)."""
    folder = experiments_dir() / tracker if tracker else experiments_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_experiment(tracker: str, name: str, overrides: Iterable[str] = ()) -> Any:
    """Load ``experiments/<tracker>/<name>.yaml`` validated by the tracker's registered schema."""
    schema = TRACKER_SCHEMAS.get(tracker)
    return load_config(experiment_path(tracker, name), schema, overrides)
