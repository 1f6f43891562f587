"""Where datasets live and where outputs go: a user paths file plus environment variables.

Lookup order for each key: the environment variable ``PYTRACKING_<KEY>_ROOT``, then the paths
file (``$PYTRACKING_PATHS``, else ``./paths.yaml``, else ``~/.config/pytracking/paths.yaml``).
Outputs default to ``./workspace`` (``PYTRACKING_WORKSPACE`` or ``workspace:`` in the file).
Nothing is ever written inside a dataset folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

PATHS_ENV = "PYTRACKING_PATHS"
WORKSPACE_ENV = "PYTRACKING_WORKSPACE"
USER_PATHS_FILE = Path.home() / ".config" / "pytracking" / "paths.yaml"


def _any_exists(*patterns: str) -> Callable[[Path], bool]:
    return lambda root: any(next(root.glob(p), None) is not None for p in patterns)


@dataclass(frozen=True)
class DatasetKey:
    """A dataset root the framework knows, with a quick check that its layout looks right."""

    description: str
    expect: str
    looks_right: Callable[[Path], bool]


DATASET_KEYS: dict[str, DatasetKey] = {
    "got10k": DatasetKey("GOT-10k (train/val/test)", "train/list.txt, val/list.txt or test/list.txt",
                         _any_exists("train/list.txt", "val/list.txt", "test/list.txt")),
    "lasot": DatasetKey("LaSOT (class folders)", "<class>/<class>-<n>/groundtruth.txt",
                        _any_exists("*/*-*/groundtruth.txt")),
    "trackingnet": DatasetKey("TrackingNet (TRAIN_0..11, TEST)", "TRAIN_<i>/anno/ or TEST/anno/",
                              _any_exists("TRAIN_*/anno", "TEST/anno")),
    "coco": DatasetKey("COCO 2017", "annotations/instances_train2017.json",
                       _any_exists("annotations/instances_*2017.json")),
    "youtubevos": DatasetKey("YouTube-VOS 2018", "train/meta.json and train/JPEGImages/",
                             _any_exists("train/meta.json")),
    "otb": DatasetKey("OTB100", "<Seq>/groundtruth_rect*.txt", _any_exists("*/groundtruth_rect*.txt")),
    "uav": DatasetKey("UAV123", "anno/UAV123/ and data_seq/UAV123/",
                      lambda r: (r / "anno" / "UAV123").is_dir() and (r / "data_seq" / "UAV123").is_dir()),
    "nfs": DatasetKey("NfS (30/240 fps)", "<seq>/30/<seq>.txt", _any_exists("*/30/*.txt", "*/240/*.txt")),
    "vot2018": DatasetKey("VOT2018 sequences", "list.txt and <seq>/groundtruth.txt", _any_exists("list.txt")),
    "vot2020": DatasetKey("VOT2020 sequences", "list.txt and <seq>/groundtruth.txt", _any_exists("list.txt")),
    "lasot_ext": DatasetKey("LaSOT extension (LaSOT_ext, 15 classes)", "<class>/<class>-<n>/groundtruth.txt",
                            _any_exists("*/*-*/groundtruth.txt")),
    "tnl2k": DatasetKey("TNL2K test set", "<seq>/imgs/ and <seq>/groundtruth.txt", _any_exists("*/groundtruth.txt")),
    "tc128": DatasetKey("Temple Color 128", "<seq>/img/ and <seq>/<seq>_gt.txt", _any_exists("*/*_gt.txt")),
    "avist": DatasetKey("AVisT", "anno/<seq>.txt and sequences/<seq>/", _any_exists("anno/*.txt")),
    "vot2022": DatasetKey("VOT2022 short-term sequences (vot-toolkit workspace)", "list.txt and <seq>/groundtruth.txt",
                          _any_exists("list.txt")),
    "synthetic": DatasetKey("built-in synthetic benchmark (GOT-10k layout)",
                            "<split>/list.txt (written on first use)",
                            _any_exists("*/list.txt")),
    "real": DatasetKey("built-in real-imagery benchmark (GOT-10k layout)",
                       "<split>/list.txt (written on first use from the real-image pool)",
                       _any_exists("*/list.txt")),
    "real_pool": DatasetKey("real-image pool (objects and backgrounds from Debian packages)",
                            "manifest.json (python -m ltr.dataset.real_pool)",
                            _any_exists("manifest.json")),
}
WORKSPACE_DATASETS = ("synthetic", "real", "real_pool")  # built by the project under <workspace>/data/<key>


class MissingPathError(RuntimeError):
    """A dataset path that is not configured or does not exist."""


def env_var(key: str) -> str:
    """Environment variable that sets dataset ``key``, e.g. ``PYTRACKING_GOT10K_ROOT``."""
    return f"PYTRACKING_{key.upper()}_ROOT"


def paths_file() -> Path:
    """The paths file in use (it may not exist)."""
    if os.environ.get(PATHS_ENV):
        return Path(os.environ[PATHS_ENV])
    local = Path.cwd() / "paths.yaml"
    return local if local.is_file() else USER_PATHS_FILE


@dataclass
class Paths:
    """Resolved dataset roots and output folders."""

    datasets: dict[str, Path] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    workspace: Path = Path("workspace")
    file: Path | None = None

    def dataset_root(self, key: str) -> Path:
        """Root folder of dataset ``key``; a clear error says how to set it when missing."""
        if key not in DATASET_KEYS:
            raise MissingPathError(f"unknown dataset key '{key}'; known keys: {', '.join(DATASET_KEYS)}")
        if key in WORKSPACE_DATASETS and key not in self.datasets:
            return self.workspace / "data" / key
        if key not in self.datasets:
            raise MissingPathError(
                f"no path configured for dataset '{key}' ({DATASET_KEYS[key].description}). Set it with "
                f"`export {env_var(key)}=/path/to/{key}` or add `datasets: {{{key}: /path/to/{key}}}` "
                f"to {self.file or USER_PATHS_FILE}. `ltr-doctor` lists every key."
            )
        root = self.datasets[key]
        if not root.is_dir():
            raise MissingPathError(f"dataset '{key}': {root} (from {self.sources[key]}) is not a folder")
        return root

    @property
    def checkpoints(self) -> Path:
        return self.workspace / "checkpoints"

    @property
    def results(self) -> Path:
        return self.workspace / "results"

    @property
    def tensorboard(self) -> Path:
        return self.workspace / "tensorboard"

    @property
    def cache(self) -> Path:
        return self.workspace / "cache"

    @property
    def analysis(self) -> Path:
        return self.workspace / "analysis"


def _read_paths_file(file: Path) -> dict:
    """The paths file's mapping, checked: only ``datasets`` (a mapping) and ``workspace`` (a path)."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise MissingPathError(f"{file}: not valid YAML: {err}") from None
    except UnicodeDecodeError as err:
        raise MissingPathError(f"{file}: not UTF-8 text (byte {err.start})") from None
    if not isinstance(data, dict) or not set(data) <= {"datasets", "workspace"}:
        raise MissingPathError(f"{file}: expected a mapping with 'datasets' and/or 'workspace' keys")
    if not isinstance(data.get("datasets") or {}, dict):
        raise MissingPathError(f"{file}: 'datasets' must map dataset keys to paths, got {data['datasets']!r}")
    workspace = data.get("workspace")
    if workspace is not None and (not isinstance(workspace, str) or not workspace.strip()):
        raise MissingPathError(f"{file}: 'workspace' must be a path, got {workspace!r}")
    return data


def load_paths(workspace: str | Path | None = None) -> Paths:
    """Read the paths file and the environment; ``workspace`` overrides the output root."""
    file = paths_file()
    data: dict = {}
    if file.is_file():
        data = _read_paths_file(file)
    datasets: dict[str, Path] = {}
    sources: dict[str, str] = {}
    for key, value in (data.get("datasets") or {}).items():
        if key not in DATASET_KEYS:
            raise MissingPathError(f"{file}: unknown dataset key '{key}'; known keys: {', '.join(DATASET_KEYS)}")
        if not isinstance(value, str) or not value.strip():
            raise MissingPathError(f"{file}: datasets.{key} must be a path, got {value!r}")
        datasets[key], sources[key] = Path(os.path.expanduser(value)), str(file)
    for key in DATASET_KEYS:
        if os.environ.get(env_var(key)):
            datasets[key], sources[key] = Path(os.path.expanduser(os.environ[env_var(key)])), env_var(key)
    ws = workspace or os.environ.get(WORKSPACE_ENV) or data.get("workspace") or "workspace"
    return Paths(datasets, sources, Path(os.path.expanduser(str(ws))).absolute(), file if file.is_file() else None)
