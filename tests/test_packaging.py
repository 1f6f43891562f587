"""Submission zips: GOT-10k test and TrackingNet layouts, validation before zipping, atomic writes."""
from __future__ import annotations

import zipfile
from pathlib import Path

import fixtures_benchmarks as fb
import numpy as np
import pytest
import yaml

from pytracking.analysis.packaging import (
    SubmissionError,
    package_experiment,
    package_got10k,
    package_trackingnet,
)
from pytracking.evaluation.datasets import load_dataset
from pytracking.evaluation.experiment import load_experiment
from pytracking.evaluation.results import RunDir
from pytracking.evaluation.runner import run_experiment


def _results(tmp_path: Path, dataset, runs: int = 1) -> list[RunDir]:
    dirs = [RunDir(tmp_path / "results", dataset.results_name, "static", "default", r) for r in range(runs)]
    for r, run_dir in enumerate(dirs):
        for seq in dataset:
            boxes = np.tile(seq.ground_truth[0], (len(seq), 1)) + r
            run_dir.write(seq.name, boxes, np.full(len(seq), 0.01), {"tracker": "static"})
    return dirs


@pytest.fixture()
def got10k_test(tmp_path):
    fb.write_got10k(tmp_path / "got10k", "test", frames=5)
    dataset = load_dataset("got10k", split="test", root=tmp_path / "got10k")
    return dataset, {seq.name: len(seq) for seq in dataset}


def test_got10k_zip_layout(tmp_path, got10k_test):
    dataset, frames = got10k_test
    runs = _results(tmp_path, dataset, runs=3)
    out = package_got10k(runs, frames, tmp_path / "sub.zip")
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        seq = "GOT-10k_Test_000001"
        assert {f"{seq}/{seq}_001.txt", f"{seq}/{seq}_002.txt", f"{seq}/{seq}_003.txt", f"{seq}/{seq}_time.txt"} <= names
        assert len(names) == 3 * 4
        lines = archive.read(f"{seq}/{seq}_002.txt").decode().splitlines()
        assert len(lines) == 5 and lines[0] == "11.0000,9.0000,17.0000,13.0000"
        assert archive.read(f"{seq}/{seq}_time.txt").decode().splitlines()[0] == "0.010000"
    assert not list(tmp_path.glob(".sub.zip.*"))


def test_got10k_rejects_missing_sequence_and_wrong_lengths(tmp_path, got10k_test):
    dataset, frames = got10k_test
    (run,) = _results(tmp_path, dataset)
    run.boxes_file("GOT-10k_Test_000002").unlink()
    run.boxes_file("GOT-10k_Test_000003").write_text("1,2,3,4\n" * 4)
    with pytest.raises(SubmissionError) as err:
        package_got10k([run], frames, tmp_path / "sub.zip")
    message = str(err.value)
    assert "2 problem(s)" in message and "GOT-10k_Test_000002.txt: missing" in message
    assert "GOT-10k_Test_000003.txt: 4 lines for 5 frames" in message
    assert not (tmp_path / "sub.zip").exists()


def test_got10k_rejects_non_finite_boxes_and_too_many_runs(tmp_path, got10k_test):
    dataset, frames = got10k_test
    runs = _results(tmp_path, dataset, runs=1)
    runs[0].boxes_file("GOT-10k_Test_000001").write_text("1,2,3,4\n" * 3 + "nan,2,3,4\n" + "1,2,3,4\n")
    with pytest.raises(SubmissionError, match="non-finite values on line 4"):
        package_got10k(runs, frames, tmp_path / "sub.zip")
    with pytest.raises(SubmissionError, match="1 to 3 runs"):
        package_got10k(runs * 4, frames, tmp_path / "sub.zip")


def test_trackingnet_zip(tmp_path):
    fb.write_trackingnet(tmp_path / "tn", frames=12)
    dataset = load_dataset("trackingnet", root=tmp_path / "tn")
    frames = {seq.name: len(seq) for seq in dataset}
    (run,) = _results(tmp_path, dataset)
    out = package_trackingnet(run, frames, tmp_path / "tn.zip")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["-3TIfnTSM6c_2.txt", "a_b_c_0.txt"]
        lines = archive.read("a_b_c_0.txt").decode().splitlines()
        assert len(lines) == 12 and lines[0] == "11.12,8.00,16.00,12.00"
    run.boxes_file("a_b_c_0").unlink()
    with pytest.raises(SubmissionError, match="a_b_c_0.txt: missing"):
        package_trackingnet(run, frames, tmp_path / "tn2.zip")


def test_package_experiment_end_to_end(tmp_path, monkeypatch):
    fb.write_got10k(tmp_path / "got10k", "test", frames=5)
    exp = tmp_path / "got10k_test.yaml"
    exp.write_text(yaml.safe_dump({"dataset": {"name": "got10k", "split": "test", "root": str(tmp_path / "got10k")},
                                   "trackers": [{"name": "static", "runs": 2}], "workers": 0}))
    summary = run_experiment(load_experiment(str(exp)), workspace=tmp_path / "ws")
    assert summary.done == 6 and not summary.errors
    out = package_experiment(str(exp), "static", workspace=tmp_path / "ws")
    assert out == tmp_path / "ws" / "results" / "got10k_test" / "submissions" / "static_default.zip"
    with zipfile.ZipFile(out) as archive:
        assert len(archive.namelist()) == 3 * 3
    with pytest.raises(SubmissionError, match="no tracker 'bit'"):
        package_experiment(str(exp), "bit", workspace=tmp_path / "ws")
