"""The library API (``pytracking.api``) and the video demo (``pytracking/run_video.py``) on a real video file."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from ltr.dataset.synthetic import SyntheticParams, SyntheticSequence
from pytracking import run_video
from pytracking.tracker.base import TRACKERS, BaseTracker
from pytracking.api import TrackerAPIError, load_tracker

REPO = Path(__file__).resolve().parents[1]


@TRACKERS.register("test_video_masker")
class MaskTracker(BaseTracker):
    """Reports its initial box and a mask filling it (a segmentation tracker)."""

    produces_segmentation = True

    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        x, y, w, h = (round(v) for v in info["init_bbox"])
        self.box, self.mask = [x, y, w, h], np.zeros(image.shape[:2], np.uint8)
        self.mask[y:y + h, x:x + w] = 1
        return {"segmentation": self.mask}

    def track(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        return {"target_bbox": self.box, "segmentation": self.mask, "score": 0.75}
FRAMES = 12
PARAMS = SyntheticParams(width=160, height=120, num_frames=FRAMES, clutter=4, p_occlusion=0, p_full_occlusion=0,
                         p_out_of_view=0, p_blur=0)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A synthetic clip as an MJPG .avi (what the installed OpenCV writes and reads back) and its GT boxes."""
    seq = SyntheticSequence(3, PARAMS)
    path = tmp_path_factory.mktemp("video") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (PARAMS.width, PARAMS.height))
    assert writer.isOpened()
    for i in range(FRAMES):
        rgb, _ = seq.render_frame(i)
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path, np.asarray(seq.geometry.boxes, dtype=np.float64)


def read_video(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        out.append(frame)
    capture.release()
    return out


def test_api_static_tracker_keeps_box_and_output() -> None:
    tracker = load_tracker("static", "default")
    image = np.zeros((40, 50, 3), np.uint8)
    assert tracker.initialize(image, [5, 6, 10, 12]) == (5.0, 6.0, 10.0, 12.0)
    assert tracker.track(image) == (5.0, 6.0, 10.0, 12.0)
    assert tracker.last_output["score"] == 1.0
    assert not tracker.produces_segmentation


def test_api_errors_are_clear() -> None:
    tracker = load_tracker("static")
    with pytest.raises(TrackerAPIError, match="initialize"):
        tracker.track(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="RGB uint8"):
        tracker.initialize(np.zeros((8, 8), np.uint8), [0, 0, 2, 2])
    with pytest.raises(ValueError, match="positive"):
        tracker.initialize(np.zeros((8, 8, 3), np.uint8), [0, 0, 0, 2])
    with pytest.raises(FileNotFoundError):
        load_tracker("static", checkpoint="/nonexistent.pth")


def test_demo_writes_results_and_annotated_video(video: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, gt = video
    x, y, w, h = gt[0]
    results, output = tmp_path / "out" / "boxes.txt", tmp_path / "out" / "annotated.avi"
    proc = subprocess.run([sys.executable, "pytracking/run_video.py", "opencv_mil", str(path),
                           "--box", f"{x},{y},{w},{h}", "--results", str(results), "--output", str(output)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    boxes = np.loadtxt(results, delimiter=",")
    assert boxes.shape == (FRAMES, 4)
    np.testing.assert_allclose(boxes[0], gt[0], atol=1e-3)
    assert np.isfinite(boxes).all()
    meta = json.loads(results.with_suffix(".json").read_text())
    assert meta["tracker"] == "opencv_mil" and meta["frames"] == FRAMES and len(meta["scores"]) == FRAMES
    frames = read_video(output)
    assert len(frames) == FRAMES
    for frame, box in zip(frames[:3], boxes[:3]):  # the red box outline is drawn at the reported position
        bx, by = int(round(box[0])), int(round(box[1] + box[3] / 2))
        b, g, r = frame[by, bx].astype(int)
        assert r > 150 and g < 100 and b < 100, (frame[by, bx], box)
    assert not list(output.parent.glob(".*tmp*")), "temp files left behind"


def test_demo_headless_without_box_is_an_error(video: tuple[Path, np.ndarray], capsys, monkeypatch) -> None:
    with pytest.raises(SystemExit):
        run_video.main(["static", str(video[0])])
    assert "--box" in capsys.readouterr().err
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(SystemExit, match="no display"):
        run_video.main(["static", str(video[0]), "--display"])


def test_demo_missing_video_and_bad_box_are_errors(tmp_path: Path, capsys) -> None:
    with pytest.raises(FileNotFoundError, match="cannot open video file"):
        run_video.main(["static", str(tmp_path / "none.mp4"), "--box", "1,1,4,4"])
    with pytest.raises(SystemExit):
        run_video.main(["static", str(tmp_path / "none.mp4"), "--box", "1,1,0,4"])
    assert "w, h > 0" in capsys.readouterr().err


def test_demo_writes_masks_and_overlays_them(video: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    results, output = tmp_path / "r.txt", tmp_path / "a.avi"
    assert run_video.main(["test_video_masker", str(video[0]), "--box", "40,30,20,16", "--results", str(results),
                           "--output", str(output)]) == 0
    with np.load(tmp_path / "r_masks.npz") as data:
        masks = data["masks"]
    assert masks.shape == (FRAMES, PARAMS.height, PARAMS.width) and masks.dtype == np.uint8
    assert (masks.sum(axis=(1, 2)) == 20 * 16).all()
    assert json.loads(results.with_suffix(".json").read_text())["scores"][1:] == [0.75] * (FRAMES - 1)
    frame = read_video(output)[3].astype(int)
    inside, outside = frame[34:42, 44:56].mean(axis=(0, 1)), frame[34:42, 80:92].mean(axis=(0, 1))
    assert inside[1] - inside[0] > 60, (inside, outside)  # green tint inside the mask


@TRACKERS.register("test_video_recorder")
class RecordingTracker(BaseTracker):
    """Records the mean of every frame it gets; on frame ``stop_at`` (class attribute) it
    interrupts the way the user would: ``signal`` (SIGINT or SIGTERM) to this very process."""

    seen: list[float] = []
    stop_at: int | None = None
    signal_to_send: int = 2

    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        RecordingTracker.seen = [float(image.mean())]
        self.box = list(info["init_bbox"])
        return {}

    def track(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        RecordingTracker.seen.append(float(image.mean()))
        if RecordingTracker.stop_at is not None and len(RecordingTracker.seen) - 1 == RecordingTracker.stop_at:
            import os
            os.kill(os.getpid(), RecordingTracker.signal_to_send)
        return {"target_bbox": self.box, "score": 0.5}


def test_demo_start_and_max_frames(video: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, gt = video
    x, y, w, h = gt[4]
    results = tmp_path / "boxes.txt"
    RecordingTracker.stop_at = None
    status = run_video.main(["test_video_recorder", str(path), "--box", f"{x},{y},{w},{h}", "--start", "4",
                             "--max-frames", "5", "--results", str(results)])
    assert status == 0
    decoded = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB).mean() for f in read_video(path)]
    np.testing.assert_allclose(RecordingTracker.seen, decoded[4:9])  # frames 4..8, decoded independently
    assert np.loadtxt(results, delimiter=",").shape == (5, 4)
    meta = json.loads(results.with_suffix(".json").read_text())
    assert meta["start_frame"] == 4 and meta["frames"] == 5 and meta["interrupted"] is False
    assert run_video.main(["test_video_recorder", str(path), "--box", "1,1,5,5", "--start", "99"]) == 2


@pytest.mark.parametrize("signum,status", [(2, 130), (15, 143)])
def test_demo_interrupt_flushes_results_and_leaves_no_temp_video(video: tuple[Path, np.ndarray], tmp_path: Path,
                                                                  signum: int, status: int) -> None:
    path, gt = video
    x, y, w, h = gt[0]
    results, output = tmp_path / "out" / "boxes.txt", tmp_path / "out" / "annotated.avi"
    RecordingTracker.stop_at, RecordingTracker.signal_to_send = 6, signum
    # Python keeps SIGINT ignored when it starts ignored (a script's `cmd &`), so Ctrl-C's usual
    # handler is set here: the test is about the demo, not about the shell that launched pytest
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = run_video.main(["test_video_recorder", str(path), "--box", f"{x},{y},{w},{h}",
                               "--results", str(results), "--output", str(output)])
    finally:
        RecordingTracker.stop_at = None
        signal.signal(signal.SIGINT, previous)
    assert code == status
    boxes = np.loadtxt(results, delimiter=",")
    assert 0 < len(boxes) < FRAMES and len(boxes) in (6, 7)  # the frame being tracked may be dropped
    meta = json.loads(results.with_suffix(".json").read_text())
    assert meta["interrupted"] is True and meta["frames"] == len(boxes) == len(meta["scores"])
    assert len(read_video(output)) == len(boxes)
    assert not list(output.parent.glob(".*")), "hidden temp files left behind"


def test_demo_reports_progress(video: tuple[Path, np.ndarray], tmp_path: Path, caplog) -> None:
    import logging

    path, gt = video
    x, y, w, h = gt[0]
    RecordingTracker.stop_at = None
    caplog.set_level(logging.INFO, logger="run_video")
    assert run_video.main(["test_video_recorder", str(path), "--box", f"{x},{y},{w},{h}",
                           "--progress-every", "5"]) == 0
    lines = [r.getMessage() for r in caplog.records if "frames tracked (" in r.getMessage()]
    assert len(lines) == FRAMES // 5
    assert lines[0].startswith(f"5/{FRAMES} frames tracked")
