"""CPU thread policy (``ltr.admin.threads``), onnxruntime sessions without spinning, and the
profiler's refusal of emulated bf16."""
from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from ltr.admin import threads
from ltr.export.common import NO_SPINNING, Graph, export_graph, session
from ltr import profile_model
from ltr.models import precision

REPO = Path(__file__).resolve().parents[1]


def write_topology(root: Path, cores: dict[int, tuple[int, int]]) -> Path:
    for cpu, (package, core) in cores.items():
        folder = root / f"cpu{cpu}" / "topology"
        folder.mkdir(parents=True)
        (folder / "physical_package_id").write_text(f"{package}\n")
        (folder / "core_id").write_text(f"{core}\n")
    return root


def test_physical_cores_counts_hyperthread_siblings_once(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "allowed_cpus", lambda: {0, 1, 2, 3})
    topology = write_topology(tmp_path, {0: (0, 0), 1: (0, 0), 2: (0, 1), 3: (0, 1)})  # 2 cores x 2 threads
    assert threads.physical_cores(topology) == 2


def test_physical_cores_only_counts_allowed_cpus_and_falls_back(tmp_path, monkeypatch):
    topology = write_topology(tmp_path, {0: (0, 0), 1: (0, 1), 2: (1, 0), 3: (1, 1)})
    monkeypatch.setattr(threads, "allowed_cpus", lambda: {2, 3})
    assert threads.physical_cores(topology) == 2
    monkeypatch.setattr(threads, "allowed_cpus", lambda: {0, 1, 2})
    assert threads.physical_cores(tmp_path / "missing") == 3  # unreadable topology: logical CPUs


def test_passive_waiting_keeps_what_the_user_set(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setenv("KMP_BLOCKTIME", "200")
    assert threads.prefer_passive_waiting() == {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "200"}


def test_set_threads_defaults_to_physical_cores(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "physical_cores", lambda: 1)
    try:
        assert threads.set_threads() == 1 and torch.get_num_threads() == 1
        with pytest.raises(ValueError):
            threads.set_threads(0)
    finally:
        torch.set_num_threads(before)


def test_run_tracker_sets_passive_waiting_before_torch_and_takes_threads():
    code = ("import runpy, sys; sys.argv = ['run_tracker.py', '--help'];\n"
            "try: runpy.run_path('pytracking/run_tracker.py', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "import os; print('POLICY', os.environ.get('OMP_WAIT_POLICY'))")
    env = {k: v for k, v in __import__("os").environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert "--threads" in out.stdout and "POLICY PASSIVE" in out.stdout, out.stderr


def test_onnxruntime_sessions_do_not_spin(tmp_path):
    path = export_graph(Graph("linear", torch.nn.Linear(3, 2), {"x": torch.randn(1, 3)}, ["y"]), tmp_path)
    options = session(path, threads=1).get_session_options()
    for key, value in NO_SPINNING.items():
        assert options.get_session_config_entry(key) == value == "0"


def test_bf16_needs_native_cpu_support(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu sse avx2 avx512f\n")
    assert precision.cpu_flags(cpuinfo) == {"fpu", "sse", "avx2", "avx512f"}
    assert not precision.cpu_has_native_bf16({"avx2", "avx512f"})
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda flags=None: False)
    with pytest.raises(ValueError, match="no native bf16"):
        precision.autocast_context(torch.device("cpu"), amp=True)
    with precision.autocast_context(torch.device("cpu"), amp=False):
        assert not torch.is_autocast_enabled("cpu")
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda flags=None: True)
    with precision.autocast_context(torch.device("cpu"), amp=True):
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16


@pytest.mark.parametrize("bf16_supported, dtype", [(True, torch.bfloat16), (False, torch.float16)])
def test_cuda_autocasts_in_bf16_where_the_gpu_has_it(monkeypatch, bf16_supported, dtype):
    # fp16 overflowed a random-init BIT-101 to non-finite boxes on an H200; bf16 keeps fp32's range
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16_supported)
    assert precision.cuda_autocast_dtype() == dtype
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "CUDA is not available": only the dtype is checked
        context = precision.autocast_context(torch.device("cuda"), amp=True)
    assert (context.device, context.fast_dtype) == ("cuda", dtype)


def test_profile_cli_refuses_amp_without_native_bf16(monkeypatch, capsys):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda flags=None: False)
    with pytest.raises(SystemExit):
        profile_model.main(["bit", "tiny", "--device", "cpu", "--amp", "--no-latency"])
    assert "no native bf16" in capsys.readouterr().err
