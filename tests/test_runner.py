"""Tracker wrapper, reference trackers, experiment schema and the runner (resume, kill, shards, errors)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import fixtures_benchmarks as fb
import numpy as np
import pytest
import yaml

from ltr.config.loader import ConfigError
from pytracking.evaluation.datasets import load_dataset
from pytracking.evaluation.experiment import (
    DatasetEntry,
    Experiment,
    TrackerEntry,
    load_experiment,
)
from pytracking.evaluation.raw_results import candidate_names, read_raw_results
from pytracking.evaluation.results import RunDir
from pytracking.evaluation.runner import (
    StaleResultsError,
    job_seed,
    parse_shard,
    plan_jobs,
    run_experiment,
    shard_jobs,
)
from pytracking.evaluation.tracker import Tracker, TrackerOutputError, TrackerSpec
from pytracking.tracker.base import TRACKERS, BaseTracker

REPO = Path(__file__).resolve().parents[1]
SEEN_INFO: list[dict[str, Any]] = []


@TRACKERS.register("test_nan")
class NaNTracker(BaseTracker):
    """Returns a NaN box on frame 3."""

    def initialize(self, image, info):
        return {}

    def track(self, image, info):
        return {"target_bbox": [np.nan, 0, 1, 1] if info["frame"] == 2 else [0, 0, 1, 1]}


@TRACKERS.register("test_spy")
class SpyTracker(BaseTracker):
    """Records what it is given; returns a small mask too."""

    def initialize(self, image, info):
        SEEN_INFO.append(dict(info))
        return {}

    def track(self, image, info):
        SEEN_INFO.append(dict(info))
        return {"target_bbox": [1, 2, 3, 4], "segmentation": np.ones(image.shape[:2], np.uint8)}


@pytest.fixture()
def synthetic(tmp_path) -> tuple[Path, dict]:
    root = tmp_path / "data"
    return root, fb.write_synthetic_split(root, "test", frames=10)


def test_reference_trackers(synthetic):
    root, gt = synthetic
    seq = load_dataset("synthetic", root=root).sequence("syn_0001")
    static = Tracker(TrackerSpec("static")).run_sequence(seq, seed=1)
    assert static["boxes"].shape == (10, 4) and (static["boxes"] == gt["syn_0001"][0]).all()
    assert static["times"].shape == (10,) and static["segmentation"] is None
    noisy = Tracker(TrackerSpec("gt_noise"))
    a, b = noisy.run_sequence(seq, seed=7)["boxes"], noisy.run_sequence(seq, seed=7)["boxes"]
    np.testing.assert_array_equal(a, b)
    assert np.isfinite(a).all()  # frame 9 has no GT (-1 box): the last box is repeated
    np.testing.assert_array_equal(a[8], a[7])
    assert np.abs(a[1:8] - gt["syn_0001"][1:8]).max() < 4
    assert not np.array_equal(a, noisy.run_sequence(seq, seed=8)["boxes"])
    zero = Tracker(TrackerSpec("gt_noise", overrides=("center_noise=0", "scale_noise=0")))
    np.testing.assert_allclose(zero.run_sequence(seq)["boxes"][:8], gt["syn_0001"][:8])
    assert zero.config_name.startswith("default-") and zero.config_hash != noisy.config_hash


@pytest.mark.skipif("opencv_mil" not in TRACKERS, reason="this OpenCV build has no MIL tracker")
def test_opencv_mil_runs(synthetic):
    seq = load_dataset("synthetic", root=synthetic[0]).sequence("syn_0002")
    out = Tracker(TrackerSpec("opencv_mil")).run_sequence(seq, seed=3)
    assert out["boxes"].shape == (10, 4) and np.isfinite(out["boxes"]).all()


def test_nan_box_is_an_error_not_garbage(synthetic):
    seq = load_dataset("synthetic", root=synthetic[0]).sequence("syn_0001")
    with pytest.raises(TrackerOutputError, match=r"'test_nan' on syn_0001 frame 3: expected 4 finite values"):
        Tracker(TrackerSpec("test_nan")).run_sequence(seq)


def test_ground_truth_only_for_trackers_that_ask(synthetic):
    seq = load_dataset("synthetic", root=synthetic[0]).sequence("syn_0001")
    SEEN_INFO.clear()
    out = Tracker(TrackerSpec("test_spy")).run_sequence(seq, seed=5)
    assert all("gt_bbox" not in info for info in SEEN_INFO)
    assert SEEN_INFO[0]["seed"] == 5 and SEEN_INFO[0]["init_bbox"] == seq.ground_truth[0].tolist()
    assert out["segmentation"].shape == (10, 48, 64)


def test_tracker_config_errors():
    with pytest.raises(KeyError, match="unknown tracker 'nope'"):
        Tracker(TrackerSpec("nope"))
    with pytest.raises(ConfigError, match="takes no config"):
        Tracker(TrackerSpec("static", config="fast"))
    with pytest.raises(ConfigError, match="center_noise"):
        Tracker(TrackerSpec("gt_noise", overrides=("center_noise=-1",)))
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        Tracker(TrackerSpec("static", checkpoint="/no/such.pth"))


def test_raw_results_name_quirks(tmp_path):
    (tmp_path / "jogging.1.txt").write_text("1\t2\t3\t4\n5 6 7 8\n")
    (tmp_path / "human4.txt").write_text("1,2,3,4\n")
    assert candidate_names("Basketball")[:2] == ["Basketball", "basketball"]
    boxes, path = read_raw_results(tmp_path, "Jogging_1")
    assert path.name == "jogging.1.txt" and boxes.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert read_raw_results(tmp_path, "Human4_2")[1].name == "human4.txt"
    with pytest.raises(FileNotFoundError, match="no raw result for 'Jogging_2'"):
        read_raw_results(tmp_path, "Jogging_2")


def test_experiment_files_validate():
    for name in ("got10k", "lasot", "trackingnet", "otb", "uav", "nfs", "vot2018", "vot2020", "synthetic"):
        experiment = load_experiment(name)
        assert experiment.name == name and experiment.trackers
        assert all(t.name in TRACKERS for t in experiment.trackers)
    assert load_experiment("otb", ["workers=4", "dataset.split=test"]).workers == 4
    with pytest.raises(ConfigError, match="unknown key 'wokers'"):
        load_experiment("otb", ["wokers=4"])


def _experiment(root: Path, **kwargs: Any) -> Experiment:
    trackers = kwargs.pop("trackers", [TrackerEntry("static"), TrackerEntry("gt_noise", runs=2)])
    return Experiment(name="t", dataset=DatasetEntry("synthetic", root=str(root)), trackers=trackers, **kwargs)


def test_shards_cover_every_job_once(synthetic):
    experiment = _experiment(synthetic[0])
    dataset = load_dataset("synthetic", root=synthetic[0])
    jobs = plan_jobs(experiment, dataset, [Tracker(TrackerSpec(t.name)) for t in experiment.trackers])
    assert len(jobs) == 3 * 3
    shards = [shard_jobs(jobs, i, 4) for i in range(4)]
    keys = [j.key for shard in shards for j in shard]
    assert sorted(keys) == sorted(j.key for j in jobs) and len(set(keys)) == len(keys)
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert parse_shard("2/4") == (1, 4)
    with pytest.raises(ValueError):
        parse_shard("5/4")
    assert job_seed("a/b") == job_seed("a/b") != job_seed("a/c")


def test_run_resume_and_sidecar(synthetic, tmp_path):
    root, _ = synthetic
    summary = run_experiment(_experiment(root, workers=0), workspace=tmp_path / "ws")
    assert (summary.planned, summary.done, summary.skipped, summary.errors) == (9, 9, 0, [])
    run = RunDir(tmp_path / "ws" / "results", "synthetic", "gt_noise", "default", 1)
    meta = run.read_meta("syn_0003")
    assert meta["config_hash"] and meta["code_version"] and meta["fps"] > 0 and meta["run"] == 1
    assert meta["tracker"] == "gt_noise" and meta["checkpoint"] is None
    assert (tmp_path / "ws" / "results" / "synthetic" / "experiments" / "t.yaml").is_file()
    again = run_experiment(_experiment(root, workers=0), workspace=tmp_path / "ws")
    assert (again.done, again.skipped) == (0, 9)
    partial = RunDir(tmp_path / "ws" / "results", "synthetic", "static", "default", 0)
    partial.sidecar_file("syn_0002").unlink()  # as if killed between the boxes and the sidecar
    partial.boxes_file("syn_0002").write_text("1,2,3")
    third = run_experiment(_experiment(root, workers=0), workspace=tmp_path / "ws")
    assert (third.done, third.skipped) == (1, 8)
    assert partial.read("syn_0002")[0].shape == (10, 4)
    meta_file = partial.sidecar_file("syn_0001")
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps({**meta, "config_hash": "0123456789ab"}))  # as if the YAML was edited
    with pytest.raises(StaleResultsError, match="syn_0001.json.*0123456789ab"):
        run_experiment(_experiment(root, workers=0), workspace=tmp_path / "ws")


def _write_experiment(path: Path, root: Path, workers: int = 2) -> Path:
    trackers = [{"name": "gt_noise"}, {"name": "static"}]
    if "opencv_mil" in TRACKERS:
        trackers.append({"name": "opencv_mil"})
    path.write_text(yaml.safe_dump({"dataset": {"name": "synthetic", "root": str(root)}, "trackers": trackers,
                                    "workers": workers}))
    return path


def _cli(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "pytracking" / "run_experiment.py"), *args, "--no-analyze"]


def _finished(results: Path) -> list[Path]:
    return sorted(p for p in results.rglob("*.json") if p.parent.name.startswith("run_"))


def test_crash_on_one_sequence_keeps_the_others(synthetic, tmp_path):
    root, _ = synthetic
    frame = root / "test" / "syn_0002" / "00000004.jpg"
    frame.write_bytes(frame.read_bytes()[:40])  # truncated JPEG
    exp = _write_experiment(tmp_path / "exp.yaml", root)
    proc = subprocess.run(_cli(str(exp), "--workspace", str(tmp_path / "ws")), cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "FAILED" in proc.stderr and "00000004.jpg" in proc.stderr
    results = tmp_path / "ws" / "results" / "synthetic"
    errors = json.loads((results / "errors" / "exp.json").read_text())
    assert {e["key"].split("/")[-1] for e in errors} == {"syn_0002"}
    assert all("ImageReadError" in e["traceback"] for e in errors)
    done = _finished(results)
    assert len(done) == 2 * len(errors) and all(p.stem != "syn_0002" for p in done)


def test_kill_and_resume_gives_identical_results(tmp_path):
    root = tmp_path / "data"
    fb.write_synthetic_split(root, "test", frames=20, tags={f"syn_{i:04d}": [] for i in range(1, 5)})
    exp = _write_experiment(tmp_path / "exp.yaml", root)
    reference = tmp_path / "ref"
    subprocess.run(_cli(str(exp), "--workspace", str(reference)), cwd=REPO, check=True, capture_output=True,
                   timeout=120)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cli(str(exp), "--workspace", str(killed)), cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(_finished(killed)) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    ref_files = _finished(reference / "results")
    assert len(_finished(killed / "results")) < len(ref_files), "the run finished before it could be killed"
    # a boxes file without its sidecar (killed between the two writes) must not count as finished
    pending = next(p for p in ref_files if not (killed / p.relative_to(reference)).exists())
    stray = (killed / pending.relative_to(reference)).with_suffix(".txt")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("0,0,0\n")
    subprocess.run(_cli(str(exp), "--workspace", str(killed)), cwd=REPO, check=True, capture_output=True,
                   timeout=120)
    for sidecar in ref_files:
        rel = sidecar.relative_to(reference).with_suffix(".txt")
        assert (killed / rel).read_bytes() == (reference / rel).read_bytes(), rel
    assert len(_finished(killed / "results")) == len(ref_files)


def test_run_tracker_cli(synthetic, tmp_path, capsys):
    from pytracking.run_tracker import main

    root, _ = synthetic
    args = ["gt_noise", "--dataset", "synthetic", "--root", str(root), "--sequence", "syn_0002",
            "--workspace", str(tmp_path / "ws"), "--workers", "0"]
    assert main(args) == 0
    assert RunDir(tmp_path / "ws" / "results", "synthetic", "gt_noise", "default").is_finished("syn_0002")
    assert main(args + ["--visualize", str(tmp_path / "vis")]) == 0
    assert len(list((tmp_path / "vis" / "syn_0002").glob("*.jpg"))) == 10
    assert main(["--list"]) == 0 and "opencv_mil" in capsys.readouterr().out
    assert main(["nope", "--dataset", "synthetic", "--root", str(root)]) == 2


def test_checkpoint_is_hashed_into_the_metadata(tmp_path):
    import hashlib

    checkpoint = tmp_path / "net.pth"
    checkpoint.write_bytes(b"weights")
    meta = Tracker(TrackerSpec("static", checkpoint=str(checkpoint))).metadata()
    assert meta["checkpoint"] == str(checkpoint)
    assert meta["checkpoint_sha256"] == hashlib.sha256(b"weights").hexdigest()
    shipped = REPO / "pytracking" / "networks" / "bit_tiny.pth"  # named by experiments/bit/tiny.yaml
    meta = Tracker(TrackerSpec("bit", "tiny")).metadata()
    assert meta["checkpoint_sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()


def test_runs_with_other_weights_get_their_own_results_folder(tmp_path):
    """Two checkpoints for one config must not share (and resume into) one results folder."""
    first, second = tmp_path / "a.pth", tmp_path / "b.pth"
    first.write_bytes(b"weights a")
    second.write_bytes(b"weights b")
    names = {Tracker(TrackerSpec("static", checkpoint=str(path))).config_name for path in (first, second)}
    plain = Tracker(TrackerSpec("static")).config_name
    assert len(names) == 2 and plain == "default" and plain not in names
    assert all(name.startswith("default-") for name in names)
    again = Tracker(TrackerSpec("static", checkpoint=str(first))).config_name
    assert again in names  # same weights, same folder: resume still works


def test_resuming_after_the_weights_changed_is_refused(synthetic, tmp_path):
    weights = tmp_path / "net.pth"
    weights.write_bytes(b"first training")
    experiment = _experiment(synthetic[0], trackers=[TrackerEntry("static", checkpoint=str(weights))], workers=0)
    assert run_experiment(experiment, workspace=tmp_path / "ws").done == 3
    assert run_experiment(experiment, workspace=tmp_path / "ws").skipped == 3
    weights.write_bytes(b"retrained")  # same path, other weights
    with pytest.raises(StaleResultsError, match="weights"):
        run_experiment(experiment, workspace=tmp_path / "ws")


def test_in_process_jobs_restore_the_callers_thread_count(synthetic, tmp_path):
    """workers=0 runs jobs in this process: the one-thread pin is undone afterwards, so a program
    that evaluates and then trains (or a test suite) keeps its own thread count."""
    import torch

    from pytracking.evaluation.runner import _one_thread

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with _one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_workspace_option_is_one_root_for_run_and_analysis(tmp_path, monkeypatch):
    """--workspace X: the run and the analysis resolve paths under X alike (the real-image pool
    was read from the paths file's workspace while running and from X while analysing)."""
    from ltr.admin.paths import WORKSPACE_ENV, load_paths
    from pytracking import run_experiment as cli

    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "other"))  # restored afterwards; --workspace wins
    seen = {}

    class Summary:
        pass

    monkeypatch.setattr(cli, "load_experiment", lambda name, overrides: type("E", (), {"analyze": True})())
    monkeypatch.setattr(cli, "run_experiment", lambda *a, **k: seen.setdefault(
        "run", load_paths().dataset_root("real_pool")) and Summary())
    monkeypatch.setattr(cli, "report", lambda summary: 0)
    monkeypatch.setattr(cli, "analyze", lambda *a: seen.setdefault("analyze", load_paths().dataset_root("real_pool")) and 0)
    assert cli.main(["some_experiment", "--workspace", str(tmp_path / "ws")]) == 0
    assert seen["run"] == seen["analyze"] == tmp_path / "ws" / "data" / "real_pool"
