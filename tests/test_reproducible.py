"""Reproducible numbers: the same experiment in two processes with different worker counts writes
byte-identical result files (thread counts pinned per job, one JPEG decoder everywhere, seeds from
the job's identity, deterministic cuDNN)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fixtures_benchmarks as fb
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


ALL = [{"name": "gt_noise"}, {"name": "opencv_mil"}, {"name": "bit", "config": "tiny"},
       {"name": "jcat", "config": "tiny"}]


@pytest.mark.parametrize("trackers", [
    pytest.param([{"name": "bit", "config": "tiny"}], id="bit"),  # a torch network: thread-count sensitive
    pytest.param(ALL, id="all", marks=pytest.mark.slow),
])
def test_two_processes_with_different_worker_counts_write_identical_results(tmp_path, trackers):
    root = tmp_path / "data"
    fb.write_synthetic_split(root, "test", frames=6, tags={"syn_0001": [], "syn_0002": []})
    outputs = []
    for workers in (1, 2):
        exp = tmp_path / f"exp{workers}.yaml"
        exp.write_text(yaml.safe_dump({"dataset": {"name": "synthetic", "root": str(root)}, "trackers": trackers,
                                       "workers": workers}))
        workspace = tmp_path / f"ws{workers}"
        done = subprocess.run([sys.executable, str(REPO / "pytracking" / "run_experiment.py"), str(exp),
                               "--workspace", str(workspace), "--no-analyze"], cwd=REPO, capture_output=True,
                              text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr
        outputs.append(workspace / "results")
    files = sorted(p.relative_to(outputs[0]) for p in outputs[0].rglob("*")
                   if p.is_file() and p.suffix in (".txt", ".npz") and not p.name.endswith("_time.txt")
                   and "experiments" not in p.parts)
    jcat = any(t["name"] == "jcat" for t in trackers)
    assert len(files) == 2 * len(trackers) + (2 if jcat else 0)  # boxes of every job, plus JCAT's masks
    for rel in files:
        assert (outputs[1] / rel).read_bytes() == (outputs[0] / rel).read_bytes(), rel
