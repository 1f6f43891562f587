"""Every CLI prints one line for a bad input and exits non-zero; --debug shows the traceback (issue 14)."""
import errno
import subprocess
import sys
from pathlib import Path

import pytest

from ltr.admin.cli_errors import run_cli
from ltr.config.loader import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CLIS = ["ltr/run_training.py", "ltr/admin/doctor.py", "ltr/admin/convert.py", "pytracking/run_experiment.py",
        "pytracking/run_tracker.py", "pytracking/analyze.py", "pytracking/run_video.py", "pytracking/run_vot.py",
        "ltr/export/onnx.py", "pytracking/tracker/export.py", "pytracking/analysis/packaging.py",
        "ltr/profile_model.py"]


def _raiser(err):
    def main(argv):
        raise err
    return main


def test_project_error_is_one_line(capsys):
    assert run_cli(_raiser(ConfigError("/x/c.yaml: key 'lr': expected a finite number")), []) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "error: /x/c.yaml: key 'lr': expected a finite number"
    assert "--debug" in err[1] and len(err) == 2


@pytest.mark.parametrize("code,hint", [(errno.ENOSPC, "free disk space"), (errno.EROFS, "read-only"),
                                       (errno.EACCES, "permissions")])
def test_os_errors_name_the_file_and_what_to_do(capsys, code, hint):
    assert run_cli(_raiser(OSError(code, "boom", "/ws/results/a.txt")), []) == 2
    line = capsys.readouterr().err.splitlines()[0]
    assert "/ws/results/a.txt" in line and hint in line


def test_debug_reraises_and_is_not_passed_on():
    seen = []
    assert run_cli(lambda argv: seen.append(argv), ["a", "--debug", "b"]) == 0
    assert seen == [["a", "b"]]
    with pytest.raises(ConfigError):
        run_cli(_raiser(ConfigError("x")), ["--debug"])


def test_library_bugs_keep_their_traceback():
    def main(argv):
        import json
        json.loads("{")  # a library error not raised by project code: a bug in the caller, not bad input
    with pytest.raises(ValueError):
        run_cli(main, [])


@pytest.mark.parametrize("script", CLIS)
def test_every_cli_uses_the_shared_handler(script):
    text = (ROOT / script).read_text()
    assert "sys.exit(cli())" in text and "run_cli(main, argv)" in text


def test_run_experiment_missing_file_end_to_end(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "pytracking/run_experiment.py"), str(tmp_path / "nope.yaml")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "nope.yaml" in proc.stderr
