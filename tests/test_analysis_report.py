"""Tables, report files and the analyze CLI, on in-memory results and on tiny benchmarks on disk."""
import json
import os
import subprocess
import sys
from pathlib import Path

import fixtures_benchmarks as fb
import numpy as np
import pytest
import yaml

from pytracking import analyze as cli
from pytracking.analysis import MissingResultsError, analyze, format_report, write_report
from pytracking.analysis.protocols import vot2018
from pytracking.analysis.protocols.vot_trajectory import read_trajectory, supervised_file, write_trajectory
from pytracking.analysis.report import attribute_table, summary_table
from pytracking.evaluation.datasets import load_dataset
from pytracking.evaluation.results import RunDir
from pytracking.evaluation.sequence import Sequence

ROOT = Path(__file__).resolve().parents[1]
GT = np.array([[10, 10, 20, 20], [12, 10, 20, 20], [14, 11, 20, 20], [15, 12, 20, 20]], float)


def seqs():
    return [Sequence("a", "otb", [""] * 4, GT, attributes=["OCC", "SV"]),
            Sequence("b", "otb", [""] * 4, GT + 1, attributes=["OCC"]),
            Sequence("c", "otb", [""] * 4, GT + 2, attributes=[])]


def results():
    far = GT + [[0, 0, 0, 0], [40, 40, 0, 0], [40, 40, 0, 0], [40, 40, 0, 0]]
    return {"Perfect": {"a": GT, "b": GT + 1, "c": GT + 2},
            "Lost": {"a": far, "b": far + 1, "c": GT + 2}}


def test_tables_rank_methods_and_average_attributes_over_their_sequences():
    report = analyze("otb", seqs(), results())
    table = summary_table(report.results, "AUC")
    assert list(table.index) == ["Perfect", "Lost"]
    attributes = attribute_table(report.results, report.sequences, "AUC")
    lost = {r.tracker: r for r in report.results}["Lost"].per_sequence
    assert attributes.loc["OCC", "Lost"] == pytest.approx((lost["a"]["AUC"] + lost["b"]["AUC"]) / 2)
    assert attributes.loc["SV", "Lost"] == pytest.approx(lost["a"]["AUC"])
    assert attributes.loc["OCC", "sequences"] == 2


def test_report_names_the_protocol_and_the_repairs(tmp_path):
    data = results()
    data["Lost"]["c"] = (GT + 2) * [1, 1, 1, 0] + [0, 0, 0, 20] * np.array([[1], [0], [0], [1]])  # h = 0 twice
    report = analyze("otb", seqs(), data, experiment="demo")
    text = format_report(report)
    assert "Protocol: otb — otb (pytracking convention" in text
    assert "2 zero-size boxes replaced by the previous box in 1 sequence" in text
    files = write_report(report, tmp_path)
    names = {p.name for p in files}
    assert {"report.json", "report.txt", "summary.csv", "success.png", "success.pdf", "precision.pdf"} <= names
    payload = json.loads((tmp_path / "report.json").read_text())
    assert payload["protocol"] == "otb" and payload["results"][0]["scores"]["AUC"] > 0
    assert payload["results"][1]["repair_summary"]


def test_missing_results_are_named_unless_allowed():
    data = results()
    del data["Lost"]["b"]
    with pytest.raises(MissingResultsError, match="Lost: b"):
        analyze("otb", seqs(), data)
    report = analyze("otb", seqs(), data, allow_missing=True)
    assert report.dropped_sequences == ["b"]
    assert set(report.results[0].per_sequence) == {"a", "c"}
    assert "MISSING results of Lost (1): b" in format_report(report)


def test_refused_results_are_reported_and_the_others_still_scored():
    data = results()
    data["Lost"]["a"] = GT * [1, 1, 1, np.nan]
    report = analyze("otb", seqs(), data)
    assert [r.tracker for r in report.results] == ["Perfect"]
    assert "a: run 1, frame 1" in report.refused["Lost"]
    assert "REFUSED Lost" in format_report(report)


def test_trajectories_round_trip_through_files(tmp_path):
    trajectory = [1, np.array([1.0, 2, 3, 4]), 2, 0, 0, np.array([0.0, 0, 4, 0, 4, 4, 0, 4])]
    path = supervised_file(tmp_path, "ants1")
    write_trajectory(path, trajectory)
    back = read_trajectory(path)
    assert back[0] == 1 and back[2] == 2 and back[3] == 0
    assert back[1].tolist() == [1, 2, 3, 4] and len(back[5]) == 8


def write_experiment(tmp_path: Path, dataset: dict, trackers: list, results_only: list = ()) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({"dataset": dataset, "trackers": trackers, "results_only": list(results_only)}))
    return path


@pytest.fixture
def got10k_experiment(tmp_path, monkeypatch):
    data_root = tmp_path / "got10k"
    gt = fb.write_got10k(data_root, "val")
    workspace = tmp_path / "ws"
    monkeypatch.setenv("PYTRACKING_WORKSPACE", str(workspace))
    raw = tmp_path / "raw"
    raw.mkdir()
    benchmark = load_dataset("got10k", root=data_root, split="val").results_name
    for name, boxes in gt.items():
        for run in range(2):
            RunDir(workspace / "results", benchmark, "static", "default", run).write(
                name, boxes + run, np.full(len(boxes), 0.02), {"tracker": "static"})
        np.savetxt(raw / f"{name}.txt", boxes, delimiter=",")
    exp = write_experiment(tmp_path, {"name": "got10k", "split": "val", "root": str(data_root)},
                           [{"name": "static", "runs": 2, "display_name": "Static"}],
                           [{"name": "Raw", "folder": str(raw)}])
    return exp, workspace, gt, benchmark


def test_cli_scores_an_experiment_and_writes_the_report(got10k_experiment, capsys):
    exp, workspace, _, _ = got10k_experiment
    assert cli.main([str(exp)]) == 0
    out = capsys.readouterr().out
    assert "Protocol: got10k" in out and "Static" in out and "Raw" in out
    payload = json.loads((workspace / "analysis" / "exp" / "report.json").read_text())
    scores = {r["tracker"]: r["scores"] for r in payload["results"]}
    assert scores["Raw"]["AO"] == pytest.approx(1.0)
    # honest speed: the static baseline's 50 fps means nothing, and the raw boxes carry no timing
    assert scores["Static"]["FPS"] is None and scores["Raw"]["FPS"] is None
    assert "FPS of Static: not shown (reference tracker" in out and "FPS of Raw: not shown (results carry no timing)" in out
    assert (workspace / "analysis" / "exp" / "success.png").is_file()


def test_cli_fails_naming_missing_results_unless_allowed(got10k_experiment, capsys):
    exp, workspace, gt, benchmark = got10k_experiment
    name = sorted(gt)[1]
    RunDir(workspace / "results", benchmark, "static", "default", 1).sidecar_file(name).unlink()
    assert cli.main([str(exp), "--no-plots"]) == 1
    assert f"run_001/{name}" in capsys.readouterr().err
    assert cli.main([str(exp), "--no-plots", "--allow-missing"]) == 0
    assert f"Left out for every method (results missing): {name}" in capsys.readouterr().out


def test_cli_analyses_vot2018_supervised_trajectories(tmp_path, monkeypatch, capsys):
    data_root = tmp_path / "vot"
    fb.write_vot2018(data_root, frames=12)
    workspace = tmp_path / "ws"
    monkeypatch.setenv("PYTRACKING_WORKSPACE", str(workspace))
    run_dir = RunDir(workspace / "results", load_dataset("vot2018", root=data_root).results_name, "static",
                     "default", 0)
    from pytracking.tracker.reference.static import StaticBoxTracker

    for seq in load_dataset("vot2018", root=data_root):
        run = vot2018.run_supervised(StaticBoxTracker, seq)
        write_trajectory(supervised_file(run_dir.path, seq.name), run.trajectory)
    exp = write_experiment(tmp_path, {"name": "vot2018", "root": str(data_root)}, [{"name": "static"}])
    assert cli.main([str(exp), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "Protocol: vot2018" in out and "EAO" in out


def test_analyze_runs_as_a_script_from_the_repo_root(got10k_experiment):
    exp, workspace, _, _ = got10k_experiment
    env = {**os.environ, "PYTRACKING_WORKSPACE": str(workspace), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "pytracking/analyze.py", str(exp), "--no-plots"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # loaded CI machines are slow
    assert done.returncode == 0, done.stderr
    assert "Protocol: got10k" in done.stdout
