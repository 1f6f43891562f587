"""Small things a researcher expects in the first week: CLIs that print help, profile every tracker."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def test_vot_toolkit_help_prints_help_and_installs_nothing(tmp_path):
    env = {**ENV, "PYTRACKING_WORKSPACE": str(tmp_path / "ws")}
    out = subprocess.run([sys.executable, "-m", "pytracking.vot_integration.toolkit", "--help"], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0 and "usage:" in out.stdout and "vot-toolkit==0.7.4" in out.stdout
    assert not (tmp_path / "ws").exists()


def test_vot_toolkit_existing_venv_is_only_printed(tmp_path, capsys):
    from pytracking.vot_integration.toolkit import main

    vot = tmp_path / "venv" / "bin" / "vot"
    vot.parent.mkdir(parents=True)
    vot.write_text("#!/bin/sh\n")
    assert main(["--folder", str(tmp_path / "venv")]) == 0
    assert capsys.readouterr().out.strip() == str(vot)


def test_profile_model_accepts_jcat():
    from ltr.models.registry import NETWORKS
    from ltr.profile_model import load_jcat_experiment, profile_jcat

    experiment = load_jcat_experiment("tiny")
    result = profile_jcat(experiment, torch.device("cpu"), runs=1, warmup=0, amp=False, latency=False)
    net = NETWORKS.build("jcat", backbone="efficientnet_lite0", backbone_weights="none")
    assert result["params"]["total"][0] == sum(p.numel() for p in net.parameters())
    assert result["params"]["total"][1] == sum(p.numel() for p in net.parameters() if p.requires_grad)
    # EfficientNet-Lite0's stem alone at 128x128: 32 filters of 3x3x3 over a 64x64 output grid
    assert result["macs"]["search backbone"] > 32 * 3 * 3 * 3 * 64 * 64
    assert result["macs"]["per frame"] == result["macs"]["search backbone"] + result["macs"]["segmentation head"]
    out = subprocess.run([sys.executable, "ltr/profile_model.py", "jcat", "tiny", "--no-latency"], cwd=REPO,
                         capture_output=True, text=True, env=ENV, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "== jcat/tiny" in out.stdout and "segmentation head" in out.stdout


def test_attribute_plots_cover_every_attribute_and_name_it_in_the_title(tmp_path, monkeypatch):
    import numpy as np
    from matplotlib.axes import Axes

    from pytracking.analysis import analyze
    from pytracking.analysis.benchmark import analyze_attributes
    from pytracking.analysis.loading import MethodResults
    from pytracking.analysis.report import write_attribute_plots
    from pytracking.evaluation.sequence import Sequence

    gt = np.array([[10, 10, 20, 20], [12, 10, 20, 20], [14, 11, 20, 20], [15, 12, 20, 20]], float)
    far = gt + [[0, 0, 0, 0], [40, 40, 0, 0], [40, 40, 0, 0], [40, 40, 0, 0]]
    sequences = [Sequence("a", "otb", [""] * 4, gt, attributes=["OCC", "SV"]),
                 Sequence("b", "otb", [""] * 4, gt + 1, attributes=["OCC"]),
                 Sequence("c", "otb", [""] * 4, gt + 2, attributes=["Fast Motion"])]
    data = {"Perfect": {"a": gt, "b": gt + 1, "c": gt + 2}, "Lost": {"a": far, "b": far + 1, "c": gt + 2}}
    methods = [MethodResults(label, dict(per_seq), {}) for label, per_seq in data.items()]
    reports = analyze_attributes("otb", sequences, methods, "demo")
    assert list(reports) == ["Fast Motion", "OCC", "SV"]
    for attribute, names in (("OCC", "ab"), ("SV", "a")):  # against scoring the subset directly
        subset = [s for s in sequences if s.name in names]
        direct = analyze("otb", subset, {k: {n: v[n] for n in names} for k, v in data.items()})
        ours = {r.tracker: r.scores["AUC"] for r in reports[attribute].results}
        assert ours == {r.tracker: r.scores["AUC"] for r in direct.results}
    titles = []
    original = Axes.set_title
    monkeypatch.setattr(Axes, "set_title", lambda self, text, *a, **k: (titles.append(text),
                                                                          original(self, text, *a, **k))[1])
    files = write_attribute_plots(reports, tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in files} >= {
        "OCC/success.png", "OCC/precision.pdf", "SV/success.pdf", "Fast_Motion/precision.png"}
    assert "Success plot — attribute OCC (2 sequences) — protocol: otb" in titles
    assert any(t.startswith("Precision plot — attribute Fast Motion (1 sequences)") for t in titles)


def test_readme_api_example_loads_a_checkpoint_that_exists():
    import re

    import numpy as np

    readme = (REPO / "README.md").read_text()
    block = re.search(r"```python\n(from pytracking\.api import load_tracker\n.*?)```", readme, re.S).group(1)
    call = next(line for line in block.splitlines() if "load_tracker(" in line and "=" in line)
    checkpoint = re.search(r'checkpoint="([^"]+)"', call).group(1)
    assert (REPO / checkpoint).is_file(), checkpoint
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(3)]
    namespace = {"first_frame": frames[0], "frames": frames[1:], "x": 40.0, "y": 30.0, "w": 32.0, "h": 24.0}
    exec(block, namespace)  # the README's code, as written, on three frames
    assert np.isfinite(namespace["tracker"].last_output["target_bbox"]).all()


def test_readme_documents_every_console_script():
    import re

    scripts = re.findall(r'"([a-z-]+)=[\w.]+:(?:main|cli)"', (REPO / "setup.py").read_text())
    readme = (REPO / "README.md").read_text()
    assert len(scripts) >= 9
    assert [s for s in scripts if f"| `{s}` |" not in readme] == []
