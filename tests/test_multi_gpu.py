"""Multi-GPU evaluation without GPUs: workers are pinned to faked device ids through
CUDA_VISIBLE_DEVICES, round-robin, and every result records the device its worker saw."""
from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

import fixtures_benchmarks as fb
import pytest
import yaml

from pytracking.evaluation.experiment import DatasetEntry, Experiment, TrackerEntry, load_experiment
from pytracking.evaluation.results import RunDir
from pytracking.evaluation.runner import _init_worker, _process_context, run_experiment, worker_gpus

REPO = Path(__file__).resolve().parents[1]


def test_each_worker_process_is_pinned_round_robin(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    context = _process_context()
    initargs = (worker_gpus([3, 5]), context.Value("i", 0))
    with context.Pool(2, initializer=_init_worker, initargs=initargs, maxtasksperchild=1) as pool:
        seen = pool.map(os.getenv, ["CUDA_VISIBLE_DEVICES"] * 6, chunksize=1)
    assert collections.Counter(seen) == {"3": 3, "5": 3}


def test_gpu_ids_index_the_parents_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,6,7")
    assert worker_gpus([0, 2]) == ("4", "7")
    with pytest.raises(ValueError, match="shows 3 GPU"):
        worker_gpus([3])
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert worker_gpus([1, 0]) == ("1", "0")
    assert worker_gpus([]) == ()


def test_experiment_spreads_sequences_over_the_gpus(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    root = tmp_path / "data"
    fb.write_synthetic_split(root, "test", frames=6)
    experiment = Experiment(name="g", dataset=DatasetEntry("synthetic", root=str(root)),
                            trackers=[TrackerEntry("static")], workers=2, gpus=[0, 1])
    summary = run_experiment(experiment, workspace=tmp_path / "ws")
    assert summary.errors == [] and summary.done == 3
    run = RunDir(tmp_path / "ws" / "results", "synthetic", "static", "default", 0)
    devices = [run.read_meta(f"syn_000{i}")["cuda_visible_devices"] for i in (1, 2, 3)]
    assert set(devices) == {"0", "1"}


def test_gpus_flag_and_yaml_key(tmp_path):
    assert load_experiment("otb", ["gpus=[0,2]"]).gpus == [0, 2]
    root = tmp_path / "data"
    fb.write_synthetic_split(root, "test", frames=4)
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump({"dataset": {"name": "synthetic", "root": str(root)},
                                    "trackers": [{"name": "static"}], "workers": 2}))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    out = subprocess.run([sys.executable, str(REPO / "pytracking" / "run_experiment.py"), str(path),
                          "--gpus", "7,8", "--no-analyze", "--workspace", str(tmp_path / "ws")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    metas = sorted((tmp_path / "ws" / "results").rglob("syn_*.json"))
    assert len(metas) == 3
    assert {yaml.safe_load(m.read_text())["cuda_visible_devices"] for m in metas} == {"7", "8"}
    bad = subprocess.run([sys.executable, str(REPO / "pytracking" / "run_experiment.py"), str(path),
                          "--gpus", "x", "--no-analyze", "--workspace", str(tmp_path / "ws2")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 2 and "gpus" in bad.stderr
