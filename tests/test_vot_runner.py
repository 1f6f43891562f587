"""The runner on VOT datasets: supervised (VOT2018) and multistart (VOT2020) jobs, resume, shards, analysis."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fixtures_benchmarks as fb
import numpy as np
import pytest
import yaml

from pytracking import analyze as cli
from pytracking.analysis.protocols.vot2020 import anchor_runs
from pytracking.analysis.protocols.vot_region import Mask, is_special
from pytracking.analysis.protocols.vot_trajectory import multistart_file, read_trajectory, supervised_file
from pytracking.evaluation.datasets import load_dataset
from pytracking.evaluation.experiment import load_experiment
from pytracking.evaluation.results import RunDir
from pytracking.evaluation.runner import run_experiment
from pytracking.evaluation.vot_runner import is_finished, sidecar_file, vot_kind
from pytracking.tracker.base import TRACKERS, BaseTracker

INIT_SEEDS: list[int] = []


@TRACKERS.register("test_vot_masker")
class MaskTracker(BaseTracker):
    """Returns its initial box and the matching full-frame mask (a segmentation tracker)."""

    produces_segmentation = True

    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        INIT_SEEDS.append(info["seed"])
        assert info["init_mask"].shape == image.shape[:2] and info["init_mask"].any()
        self._box = [round(v) for v in info["init_bbox"]]
        self._mask = np.zeros(image.shape[:2], np.uint8)
        x, y, w, h = self._box
        self._mask[y:y + h, x:x + w] = 1
        return {}

    def track(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        return {"target_bbox": list(self._box), "segmentation": self._mask, "score": 1.0}


def experiment(tmp_path: Path, dataset: str, root: Path, trackers: list[dict], workers: int = 0) -> Path:
    path = tmp_path / f"{dataset}_exp.yaml"
    path.write_text(yaml.safe_dump({"dataset": {"name": dataset, "root": str(root)}, "trackers": trackers,
                                    "workers": workers}))
    return path


@pytest.fixture
def vot2018(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, RunDir]:
    root = tmp_path / "vot2018"
    fb.write_vot2018(root, frames=30)  # the target moves 1 px/frame: a static box fails around frame 17
    workspace = tmp_path / "ws"
    monkeypatch.setenv("PYTRACKING_WORKSPACE", str(workspace))
    exp = experiment(tmp_path, "vot2018", root, [{"name": "static"}, {"name": "gt_noise", "runs": 2}])
    benchmark = load_dataset("vot2018", root=root).results_name
    return exp, workspace, RunDir(workspace / "results", benchmark, "static", "default", 0)


def test_vot_kind_follows_the_benchmark_protocol() -> None:
    assert vot_kind("vot2018") == "supervised"
    assert vot_kind("vot2020") == "multistart"
    assert vot_kind("got10k") is None and vot_kind("synthetic") is None


def test_vot2018_supervised_jobs_write_trajectories_and_analyze_scores_them(vot2018, capsys) -> None:
    exp, workspace, static = vot2018
    summary = run_experiment(load_experiment(str(exp)), workspace=workspace)
    assert summary.errors == [] and summary.done == 2 * 3
    trajectory = read_trajectory(supervised_file(static.path, "conduction1"))
    codes = [r if is_special(r) else None for r in trajectory]
    assert len(trajectory) == 30 and codes[0] == 1
    assert 2 in codes, "the static box must fail on a moving target and be reset"
    fail = codes.index(2)
    assert codes[fail + 1:fail + 5] == [0, 0, 0, 0] and codes[fail + 5] == 1
    meta = json.loads(sidecar_file(static, "conduction1", "supervised").read_text())
    assert meta["failures"] >= 1 and meta["tracker"] == "static" and meta["protocol_kind"] == "supervised"
    assert not static.boxes_file("conduction1").exists()  # VOT jobs write trajectories only

    assert cli.main([str(exp), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "Protocol: vot2018" in out and "EAO" in out
    report = json.loads((workspace / "analysis" / exp.stem / "report.json").read_text())
    scores = {r["tracker"]: r["scores"] for r in report["results"]}
    assert set(scores) == {"static", "gt_noise"}
    assert {"EAO", "Accuracy", "Robustness", "Failures"} <= set(scores["static"])  # EAO: None, sequences < 100 frames
    assert scores["static"]["Failures"] >= 1 and scores["gt_noise"]["Failures"] == 0
    assert scores["gt_noise"]["Accuracy"] > scores["static"]["Accuracy"]


def test_vot_jobs_resume_and_recompute_only_unfinished(vot2018) -> None:
    exp, workspace, static = vot2018
    run_experiment(load_experiment(str(exp)), workspace=workspace)
    before = supervised_file(static.path, "ants1").stat().st_mtime_ns
    sidecar_file(static, "conduction1", "supervised").unlink()  # as if killed before the sidecar
    again = run_experiment(load_experiment(str(exp)), workspace=workspace)
    assert (again.skipped, again.done) == (5, 1)
    assert supervised_file(static.path, "ants1").stat().st_mtime_ns == before
    assert is_finished(static, "conduction1", "supervised")


def test_vot_jobs_shard_and_run_in_worker_processes(vot2018) -> None:
    exp, workspace, static = vot2018
    first = run_experiment(load_experiment(str(exp), ["workers=1"]), workspace=workspace, shard=(0, 2))
    second = run_experiment(load_experiment(str(exp), ["workers=1"]), workspace=workspace, shard=(1, 2))
    assert first.errors == [] and second.errors == [] and first.done + second.done == 6
    assert all(is_finished(static, s, "supervised") for s in ("ants1", "conduction1"))


def test_gt_noise_runs_get_their_job_seed(vot2018) -> None:
    exp, workspace, _ = vot2018
    run_experiment(load_experiment(str(exp)), workspace=workspace)
    runs = [RunDir(workspace / "results", _benchmark(exp), "gt_noise", "default", r)
            for r in range(2)]
    seeds = [json.loads(sidecar_file(r, "ants1", "supervised").read_text())["seed"] for r in runs]
    assert seeds[0] != seeds[1]
    trajectories = [read_trajectory(supervised_file(r.path, "ants1")) for r in runs]
    assert not np.allclose(trajectories[0][5], trajectories[1][5])


def _benchmark(exp: Path) -> str:
    entry = load_experiment(str(exp)).dataset
    return load_dataset(entry.name, root=entry.root).results_name


def test_vot2020_multistart_jobs_write_anchor_runs_with_masks(tmp_path, monkeypatch, capsys) -> None:
    root = tmp_path / "vot2020"
    fb.write_vot2020(root, frames=12)
    workspace = tmp_path / "ws"
    monkeypatch.setenv("PYTRACKING_WORKSPACE", str(workspace))
    exp = experiment(tmp_path, "vot2020", root, [{"name": "static"}, {"name": "test_vot_masker"}])
    INIT_SEEDS.clear()
    summary = run_experiment(load_experiment(str(exp)), workspace=workspace)
    assert summary.errors == [] and summary.done == 2
    seq = load_dataset("vot2020", root=root).sequence("agility")
    benchmark = load_dataset("vot2020", root=root).results_name
    masker = RunDir(workspace / "results", benchmark, "test_vot_masker", "default", 0)
    anchors = anchor_runs(seq)
    assert [a for a, _ in anchors] == [0, 11]
    for anchor, reverse in anchors:
        trajectory = read_trajectory(multistart_file(masker.path, "agility", anchor))
        assert trajectory[0] == 1 and len(trajectory) == (anchor + 1 if reverse else 12 - anchor)
        assert all(isinstance(r, Mask) for r in trajectory[1:])
    assert len(INIT_SEEDS) == 2 and len(set(INIT_SEEDS)) == 1  # one job: the same seed for both anchors
    assert cli.main([str(exp), "--no-plots"]) == 0
    assert "Protocol: vot2020" in capsys.readouterr().out
