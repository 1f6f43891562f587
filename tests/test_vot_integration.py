"""TraX server (``pytracking/run_vot.py``), region conversions, vot-toolkit workspaces, and (slow) vot-toolkit
0.7.4 running the trackers end to end on VOT2018-style (supervised) and VOT2020-style (multistart) stacks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import fixtures_benchmarks as fb
import numpy as np
import pytest

trax = pytest.importorskip("trax")
from trax.client import Client  # noqa: E402
from trax.image import FileImage  # noqa: E402

from pytracking.vot_integration.regions import init_info, output_region  # noqa: E402
from pytracking.vot_integration.workspace import (  # noqa: E402
    RUN_VOT,
    TrackerCommand,
    stack_reference,
    write_workspace,
)
from pytracking.vot_integration.workspace import main as workspace_main  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MASK_SERVER = textwrap.dedent('''
    """TraX entry point with an extra segmentation tracker registered (tests only)."""
    import sys
    import numpy as np
    from pytracking.tracker.base import TRACKERS, BaseTracker


    @TRACKERS.register("test_masker")
    class MaskTracker(BaseTracker):
        produces_segmentation = True

        def initialize(self, image, info):
            self.mask = np.asarray(info["init_mask"])
            return {}

        def track(self, image, info):
            ys, xs = np.nonzero(self.mask)
            box = [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
            return {"target_bbox": box, "segmentation": self.mask, "score": 0.5}


    from pytracking.run_vot import main
    sys.exit(main(sys.argv[1:]))
''')


ECHO_SERVER = textwrap.dedent('''
    """TraX entry point with a tracker that writes the SequenceInfo it was given (tests only)."""
    import os
    import sys
    from pathlib import Path
    from pytracking.tracker.base import TRACKERS, BaseTracker


    @TRACKERS.register("test_echo")
    class EchoTracker(BaseTracker):
        def initialize(self, image, info):
            sequence = info["sequence"]
            with open(os.environ["ECHO_FILE"], "a") as f:
                f.write(f"{sequence.dataset} {sequence.name}\\n")
            self.box = info["init_bbox"]
            return {}

        def track(self, image, info):
            return {"target_bbox": self.box}


    from pytracking.run_vot import main
    sys.exit(main(sys.argv[1:]))
''')


@pytest.fixture
def mask_server(tmp_path: Path) -> Path:
    path = tmp_path / "mask_server.py"
    path.write_text(MASK_SERVER)
    return path


def connect(command: list[str]) -> tuple[subprocess.Popen, Client]:
    proc = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                            close_fds=False, env={**os.environ, "PYTHONPATH": str(REPO)})
    return proc, Client(stream=(proc.stdin.fileno(), proc.stdout.fileno()), timeout=60, log=lambda _: None)


def frame_image(tmp_path: Path) -> FileImage:
    path = tmp_path / "frame.jpg"
    path.write_bytes(fb.jpeg_bytes())
    return FileImage.create(str(path))


# --- regions ------------------------------------------------------------------------------------
def test_init_info_from_rectangle_polygon_and_mask() -> None:
    assert init_info(trax.Rectangle.create(1.5, 2, 10, 12), 64, 48) == {"init_bbox": [1.5, 2.0, 10.0, 12.0]}
    poly = init_info(trax.Polygon.create([(2, 3), (12, 3), (12, 9), (2, 9)]), 64, 48)
    assert poly["init_bbox"] == [2.0, 3.0, 10.0, 6.0] and len(poly["init_region"]) == 8
    crop = np.zeros((5, 6), np.uint8)
    crop[1:4, 2:5] = 1
    info = init_info(trax.Mask.create(crop, x=10, y=20), 64, 48)
    assert info["init_bbox"] == [12.0, 21.0, 3.0, 3.0]
    assert info["init_mask"].shape == (48, 64) and info["init_mask"].sum() == 9


def test_output_region_mask_is_cropped_with_its_offset() -> None:
    mask = np.zeros((48, 64), np.uint8)
    mask[5:9, 30:40] = 1
    region = output_region({"segmentation": mask, "target_bbox": [30, 5, 10, 4]}, mask_format=True)
    assert region.type == trax.Region.MASK and region.offset() == (30, 5) and region.size() == (10, 4)
    assert region.array(normalize=True).sum() == 40
    rect = output_region({"target_bbox": [1, 2, 3, 4]}, mask_format=False)
    assert rect.bounds() == (1.0, 2.0, 3.0, 4.0)
    with pytest.raises(ValueError, match="produces_segmentation"):
        output_region({"target_bbox": [1, 2, 3, 4]}, mask_format=True)


# --- TraX server ---------------------------------------------------------------------------------
def test_trax_server_box_tracker(tmp_path: Path) -> None:
    proc, client = connect([sys.executable, str(RUN_VOT), "static"])
    try:
        assert client.region_formats == ["rectangle"] and client.tracker_name == "static"
        image = frame_image(tmp_path)
        state, _ = client.initialize({"color": image}, [(trax.Rectangle.create(5, 6, 10, 12), {})], {})
        for _ in range(3):
            state, _ = client.frame({"color": image}, {}, [])
            region, props = state[0]
            assert region.bounds() == (5.0, 6.0, 10.0, 12.0) and float(props["confidence"]) == 1.0
        client.quit()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


def _stderr_connect(command: list[str]) -> tuple[subprocess.Popen, Client]:
    proc = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            bufsize=0, close_fds=False, env={**os.environ, "PYTHONPATH": str(REPO)})
    return proc, Client(stream=(proc.stdin.fileno(), proc.stdout.fileno()), timeout=60, log=lambda _: None)


def test_trax_server_stops_when_the_client_input_ends_without_quit(tmp_path: Path) -> None:
    """vot-trax 4.0 spins at full CPU on input that ends after a message; the server must stop
    (exit 2, one line) instead of hanging."""
    messages = tmp_path / "input.txt"
    messages.write_text('@@TRAX:initialize "5,6,10,12" \n')
    with messages.open("rb") as stdin:
        done = subprocess.run([sys.executable, str(RUN_VOT), "static"], cwd=REPO, stdin=stdin, capture_output=True,
                              timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    err = done.stderr.decode()
    assert done.returncode == 2 and "error:" in err and "Traceback" not in err


def test_trax_server_failure_is_one_line_and_reaches_the_client(tmp_path: Path) -> None:
    proc, client = _stderr_connect([sys.executable, str(RUN_VOT), "static"])
    try:
        missing = FileImage.create(str(tmp_path / "missing.jpg"))
        with pytest.raises(trax.TraxException):
            client.initialize({"color": missing}, [(trax.Rectangle.create(5, 6, 10, 12), {})], {})
        assert proc.wait(timeout=30) == 2
        err = proc.stderr.read().decode()
        assert "missing.jpg: file not found" in err and "Traceback" not in err
    finally:
        proc.kill()


def test_trax_server_segmentation_tracker_reports_masks(tmp_path: Path, mask_server: Path) -> None:
    proc, client = connect([sys.executable, str(mask_server), "test_masker"])
    try:
        assert client.region_formats == ["mask"]
        crop = np.ones((6, 8), np.uint8)
        client.initialize({"color": frame_image(tmp_path)}, [(trax.Mask.create(crop, x=20, y=10), {})], {})
        state, _ = client.frame({"color": frame_image(tmp_path)}, {}, [])
        region, props = state[0]
        assert region.type == trax.Region.MASK and region.offset() == (20, 10) and region.size() == (8, 6)
        assert float(props["confidence"]) == 0.5
        client.quit()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


def test_trax_server_tells_the_tracker_its_benchmark(tmp_path: Path, monkeypatch) -> None:
    """BIT's per-benchmark template interval keys on SequenceInfo.dataset: under TraX it is the
    --dataset the workspace writer puts in the command (the stack), one numbered sequence per start."""
    server = tmp_path / "echo_server.py"
    server.write_text(ECHO_SERVER)
    monkeypatch.setenv("ECHO_FILE", str(tmp_path / "echo.txt"))
    proc, client = connect([sys.executable, str(server), "test_echo", "--dataset", "vot2020"])
    try:
        image = frame_image(tmp_path)
        for _ in range(2):
            client.initialize({"color": image}, [(trax.Rectangle.create(5, 6, 10, 12), {})], {})
            client.frame({"color": image}, {}, [])
        client.quit()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    assert (tmp_path / "echo.txt").read_text().splitlines() == ["vot2020 trax_0001", "vot2020 trax_0002"]
    from ltr.models.bit.experiment import BitTrackingConfig
    assert BitTrackingConfig().intervals_for("vot2020") == [10]


# --- workspace ------------------------------------------------------------------------------------
def test_workspace_files(tmp_path: Path) -> None:
    fb.write_vot2018(tmp_path / "seq", frames=5)
    ws = write_workspace(tmp_path / "ws", "vot2018", tmp_path / "seq",
                         [TrackerCommand("jcat", "tiny", overrides=["tracking.device=cpu"])])
    ini = (ws / "trackers.ini").read_text()
    assert "[jcat_tiny]" in ini and "protocol = trax" in ini and f"env_PYTHONPATH = {REPO}" in ini
    assert f"{RUN_VOT} jcat tiny --set tracking.device=cpu" in ini  # no --dataset: run_vot's default
    named = write_workspace(tmp_path / "ws2", "vot2018", tmp_path / "seq", [TrackerCommand("bit", dataset="vot2018")])
    assert f"{RUN_VOT} bit --dataset vot2018" in (named / "trackers.ini").read_text()
    config = (ws / "config.yaml").read_text()
    assert "stack: vot2018/shortterm" in config and "- ./trackers.ini" in config and "sequences: sequences" in config
    assert (ws / "sequences" / "list.txt").is_file() and (ws / "sequences").is_symlink()
    copied = write_workspace(tmp_path / "ws", "vot2020", tmp_path / "seq", [TrackerCommand("static")], copy=True)
    assert not (copied / "sequences").is_symlink() and (copied / "sequences" / "ants1" / "groundtruth.txt").is_file()


def test_workspace_cli(tmp_path: Path, capsys) -> None:
    fb.write_vot2020(tmp_path / "seq", frames=5)
    assert workspace_main(["--stack", "vot2020", "--tracker", "static", "--sequences", str(tmp_path / "seq"),
                           "--out", str(tmp_path / "ws")]) == 0
    assert "vot evaluate --workspace" in capsys.readouterr().out
    assert "[static]" in (tmp_path / "ws" / "trackers.ini").read_text()
    assert "static --dataset vot2020" in (tmp_path / "ws" / "trackers.ini").read_text()  # from the stack


def test_workspace_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="list.txt"):
        write_workspace(tmp_path / "ws", "vot2018", tmp_path, [TrackerCommand("static")])
    with pytest.raises(ValueError, match="stack"):
        stack_reference("vot2019")
    with pytest.raises(KeyError, match="nope"):
        workspace_main(["--stack", "vot2018", "--tracker", "nope", "--sequences", str(tmp_path),
                        "--out", str(tmp_path / "w")])


# --- vot-toolkit 0.7.4 end to end (slow: creates its venv once under <workspace>/cache) -----------
SUPERVISED_STACK = """\
title: tiny supervised (VOT2018 baseline with 1 repetition)
experiments:
  baseline:
    type: supervised
    repetitions: 1
    skip_initialize: 5
    analyses:
      - {type: supervised_average_ar, sensitivity: 30}
      - {type: supervised_eao_score, low: 2, high: 20}
"""
MULTISTART_STACK = """\
title: tiny multistart (VOT2020 baseline)
experiments:
  baseline:
    type: multistart
    analyses:
      - {type: multistart_average_ar, name: ar}
      - {type: multistart_eao_score, name: eaoscore, low: 2, high: 20}
"""


def run_toolkit(vot: Path, workspace: Path, tracker: str) -> dict:
    for command in (["evaluate"], ["analysis", "--format", "json"]):
        proc = subprocess.run([str(vot), command[0], "--workspace", str(workspace), tracker, *command[1:]],
                              cwd=workspace, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0 and "successful" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    reports = sorted((workspace / "analysis").glob("*.json"))
    return json.loads(reports[-1].read_text())


@pytest.mark.slow
def test_vot_toolkit_runs_the_trax_tracker_on_both_stacks(tmp_path: Path, mask_server: Path) -> None:
    from pytracking.vot_integration.toolkit import ensure_toolkit

    try:
        vot = ensure_toolkit()
    except subprocess.CalledProcessError as err:  # first run without access to the package registry
        pytest.skip(f"cannot create the vot-toolkit 0.7.4 venv: {err}")
    fb.write_vot2018(tmp_path / "seq18", frames=30)
    (tmp_path / "st18.yaml").write_text(SUPERVISED_STACK)
    ws18 = write_workspace(tmp_path / "ws18", str(tmp_path / "st18.yaml"), tmp_path / "seq18",
                           [TrackerCommand("static")])
    report = run_toolkit(vot, ws18, "static")
    for seq in ("ants1", "conduction1"):
        assert (ws18 / "results" / "static" / "baseline" / seq / f"{seq}_001.bin").is_file()
    (accuracy, failures, _, _), = report["results"]["baseline"]["results"][0]
    assert 0 <= accuracy <= 1 and failures >= 1  # the static box loses the moving target

    fb.write_vot2020(tmp_path / "seq20", frames=30)
    (tmp_path / "st20.yaml").write_text(MULTISTART_STACK)
    ws20 = write_workspace(tmp_path / "ws20", str(tmp_path / "st20.yaml"), tmp_path / "seq20",
                           [TrackerCommand("test_masker", script=mask_server)])
    report = run_toolkit(vot, ws20, "test_masker")
    folder = ws20 / "results" / "test_masker" / "baseline" / "agility"
    assert {p.name for p in folder.glob("*.bin")} == {"agility_00000000.bin", "agility_00000029.bin"}
    (accuracy, robustness, _, _, _), = report["results"]["baseline"]["results"][0]
    assert accuracy > 0.3 and 0 < robustness <= 1
