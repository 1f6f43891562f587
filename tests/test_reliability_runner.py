"""Runner: a dying worker is a crashed job, not a hang; results never mix datasets (issue 14)."""
import json
import multiprocessing as mp
import time

import numpy as np
import pytest

import crash_worker
import fixtures_benchmarks as fb
from pytracking.evaluation.experiment import load_experiment
from pytracking.evaluation.pool import CRASH_MESSAGE, run_in_processes
from pytracking.evaluation.runner import StaleResultsError, run_experiment


@pytest.mark.parametrize("workers", [1, 3])
def test_dead_workers_are_reported_and_the_rest_finish(workers):
    items = ["a", "segv", "b", "c", "exit", "d", "e"]
    results, crashes = {}, {}
    start = time.monotonic()
    run_in_processes(crash_worker.work, items, workers, mp.get_context("forkserver"),
                     lambda item, r: results.__setitem__(item, r), lambda item, m: crashes.__setitem__(item, m))
    assert time.monotonic() - start < 60
    assert results == {k: k.upper() for k in "abcde"}
    assert crashes == {"segv": CRASH_MESSAGE, "exit": CRASH_MESSAGE}


def _experiment(tmp_path, root, name="exp"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\ndataset: {{name: synthetic, root: {root}}}\n"
                    "trackers: [{name: static}]\nworkers: 0\nanalyze: false\n")
    return load_experiment(str(path))


def test_resume_refuses_results_of_another_dataset_root(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    fb.write_synthetic_split(first, "test", frames=6)
    fb.write_synthetic_split(second, "test", frames=6)
    gt = second / "test" / "syn_0001" / "groundtruth.txt"
    rows = gt.read_text().splitlines()
    rows[2] = "20.0000,20.0000,10.0000,10.0000"
    gt.write_text("\n".join(rows) + "\n")
    ws = tmp_path / "ws"
    summary = run_experiment(_experiment(tmp_path, first), ws)
    assert summary.done == 3 and not summary.errors
    with pytest.raises(StaleResultsError, match=r"made on another dataset: root .*a \(now .*b\)"):
        run_experiment(_experiment(tmp_path, second), ws)
    # same root, ground truth edited in place: refused too
    (first / "test" / "syn_0001" / "groundtruth.txt").write_text(gt.read_text())
    with pytest.raises(StaleResultsError, match="other ground truth"):
        run_experiment(_experiment(tmp_path, first), ws)


def test_truncated_sidecar_is_recomputed(tmp_path):
    root = tmp_path / "data"
    fb.write_synthetic_split(root, "test", frames=6)
    ws = tmp_path / "ws"
    run_experiment(_experiment(tmp_path, root), ws)
    sidecar = next((ws / "results").rglob("syn_0002.json"))
    sidecar.write_text(sidecar.read_text()[:20])
    summary = run_experiment(_experiment(tmp_path, root), ws)
    assert summary.skipped == 2 and summary.done == 1
    assert json.loads(sidecar.read_text())["sequence"] == "syn_0002"


def test_empty_list_is_an_error(tmp_path):
    root = tmp_path / "data"
    fb.write_synthetic_split(root, "test", frames=6)
    (root / "test" / "list.txt").write_text("\n")
    from pytracking.evaluation.annotations import AnnotationError
    with pytest.raises(AnnotationError, match=r"list\.txt: lists no sequences"):
        run_experiment(_experiment(tmp_path, root), tmp_path / "ws")
