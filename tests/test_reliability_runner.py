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


def test_inf_and_huge_result_values_are_read_as_nan_and_named(tmp_path, caplog):
    from pytracking.evaluation.results import read_boxes
    path = tmp_path / "r.txt"
    path.write_text("1,2,3,4\ninf,2,3,4\n1,1e308,3,4\nnan,nan,nan,nan\n-1e9,0,1,1\n")
    with caplog.at_level("WARNING"):
        boxes = read_boxes(path)
    np.testing.assert_array_equal(np.isnan(boxes).any(axis=1), [False, True, True, True, True])
    np.testing.assert_array_equal(boxes[0], [1, 2, 3, 4])
    assert "r.txt: 3 values infinite or beyond" in caplog.text and "line 2" in caplog.text


def test_non_utf8_results_and_damaged_sidecar_name_the_file(tmp_path):
    from pytracking.evaluation.results import ResultsFormatError, RunDir, read_boxes
    path = tmp_path / "r.txt"
    path.write_bytes(b"1,2,3,4\n\xff\xfe,1,1,1\n")
    with pytest.raises(ResultsFormatError, match=r"r\.txt: not a text results file"):
        read_boxes(path)
    rundir = RunDir(tmp_path, "b", "t", "c")
    rundir.write("s", np.ones((2, 4)), np.ones(2), {"a": 1})
    rundir.sidecar_file("s").write_text('{"a": ')
    with pytest.raises(ResultsFormatError, match=r"s\.json: damaged results sidecar"):
        rundir.read_meta("s")


def test_analysis_lists_inf_boxes_with_the_nan_repairs(tmp_path):
    from pytracking.analysis.protocols import evaluate
    from pytracking.evaluation.sequence import Sequence
    gt = np.tile([10.0, 10.0, 20.0, 20.0], (4, 1))
    seq = Sequence("s", "got10k", [f"{i}.jpg" for i in range(4)], gt, image_size=(100, 100))
    boxes_file = tmp_path / "s.txt"
    boxes_file.write_text("10,10,20,20\n1e308,10,20,20\n10,10,20,20\n10,10,20,20\n")
    from pytracking.evaluation.results import read_boxes
    result = evaluate("got10k", [seq], {"s": [read_boxes(boxes_file)]})
    assert any("NaN" in line and line.startswith("1 ") for line in result.repairs.lines()), result.repairs.lines()
