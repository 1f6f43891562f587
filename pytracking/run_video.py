"""Track one object through a video file or camera: ``python pytracking/run_video.py <tracker> [config] VIDEO``.

``VIDEO`` is any file OpenCV reads, or a camera index (``0``). The initial box comes from
``--box x,y,w,h``, or is drawn with the mouse (``cv2.selectROI``) when ``--display`` is given and
a display exists; headless without ``--box`` is an error. Outputs:

* ``--results out.txt``: one ``x,y,w,h`` line per frame (written atomically at the end), plus
  ``out.json`` (tracker, video, per-frame scores and seconds) and, for segmentation trackers,
  ``out_masks.npz`` (``masks``: N x H x W uint8);
* ``--output out.mp4`` (``.avi``: MJPG): the video with the box, mask overlay, score and FPS drawn.
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: put the repo root, not pytracking/, on sys.path
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import argparse
import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np

from ltr.admin.atomic import atomic_write_text, atomic_write_with
from pytracking.api import TrackerHandle, available_trackers, load_tracker
from pytracking.tracker.base import SequenceInfo
from pytracking.evaluation.results import format_boxes

logger = logging.getLogger("run_video")
FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
WINDOW = "pytracking"


def parse_box(text: str) -> tuple[float, float, float, float]:
    """``"x,y,w,h"`` -> floats, with a clear error for anything else."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
        raise argparse.ArgumentTypeError(f"--box {text!r}: expected x,y,w,h with w, h > 0")
    return values  # type: ignore[return-value]


def open_video(source: str) -> cv2.VideoCapture:
    """A capture for a file path or a camera index (all digits)."""
    capture = cv2.VideoCapture(int(source)) if source.isdigit() else cv2.VideoCapture(source)
    if not capture.isOpened():
        kind = "camera" if source.isdigit() else "video file"
        raise FileNotFoundError(f"cannot open {kind} {source!r} with OpenCV")
    return capture


def frames(capture: cv2.VideoCapture) -> Iterator[np.ndarray]:
    """RGB frames until the stream ends."""
    while True:
        ok, bgr = capture.read()
        if not ok:
            return
        yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest


def display_available() -> bool:
    """True when OpenCV has a GUI backend and a display server is set (headless builds have none)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform in ("win32", "darwin")):
        return False
    try:
        cv2.namedWindow(WINDOW)
    except cv2.error:
        return False
    return True


def select_box(rgb: np.ndarray) -> tuple[float, float, float, float]:
    """Let the user draw the initial box on the first frame."""
    x, y, w, h = cv2.selectROI(WINDOW, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), showCrosshair=True)
    if w <= 0 or h <= 0:
        raise SystemExit("no box selected")
    return float(x), float(y), float(w), float(h)


def annotate(rgb: np.ndarray, box: tuple[float, ...], out: dict[str, Any], fps: float | None) -> np.ndarray:
    """BGR frame with the mask (green tint), the box, the score and the tracker's FPS drawn."""
    canvas = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    mask = out.get("segmentation")
    if mask is not None and np.asarray(mask).shape == canvas.shape[:2]:
        on = np.asarray(mask) > 0
        canvas[on] = (0.5 * canvas[on] + 0.5 * np.array([0, 255, 0])).astype(np.uint8)
    x, y, w, h = box
    cv2.rectangle(canvas, (round(x), round(y)), (round(x + w), round(y + h)), (0, 0, 255), 2)
    parts = []
    if out.get("score") is not None:
        parts.append(f"score {float(out['score']):.2f}")
    if fps is not None:
        parts.append(f"{fps:.1f} fps")
    if parts:
        cv2.putText(canvas, "  ".join(parts), (5, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return canvas


class AtomicVideoWriter:
    """``cv2.VideoWriter`` into a hidden temp file that replaces ``path`` only on :meth:`commit`."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        suffix = path.suffix.lower()
        if suffix not in FOURCC:
            raise ValueError(f"--output {path}: use one of {', '.join(FOURCC)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{suffix}")
        self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*FOURCC[suffix]), fps, size)
        if not self.writer.isOpened():
            raise RuntimeError(f"OpenCV cannot write {suffix} video ({FOURCC[suffix]}) here")

    def write(self, bgr: np.ndarray) -> None:
        self.writer.write(bgr)

    def commit(self) -> None:
        self.writer.release()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.writer.release()
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()


def _pack(mask: Any) -> tuple[np.ndarray | None, tuple[int, ...] | None]:
    """A mask as packed bits and its shape (8x less memory while a long video is tracked)."""
    if mask is None:
        return None, None
    mask = np.asarray(mask) > 0
    return np.packbits(mask), mask.shape


def write_results(path: Path, boxes: list[tuple[float, ...]], outputs: dict[str, list[Any]],
                  meta: dict[str, Any]) -> None:
    """Boxes text file, masks ``.npz`` (when any) and a JSON sidecar, each written atomically."""
    atomic_write_text(path, format_boxes(np.asarray(boxes)))
    masks = outputs["masks"]
    if any(bits is not None for bits, _ in masks):
        size = next(shape for bits, shape in masks if bits is not None)
        stack = np.stack([np.zeros(size, np.uint8) if bits is None else
                          np.unpackbits(bits, count=size[0] * size[1]).reshape(size) for bits, _ in masks])
        atomic_write_with(path.with_name(f"{path.stem}_masks.npz"), lambda f: np.savez_compressed(f, masks=stack))
    sidecar = {**meta, "frames": len(boxes), "scores": outputs["scores"], "seconds": outputs["seconds"]}
    atomic_write_text(path.with_suffix(".json"), json.dumps(sidecar, indent=1))


def run(tracker: TrackerHandle, capture: cv2.VideoCapture, box: tuple[float, float, float, float] | None,
        results: Path | None, output: Path | None, display: bool, meta: dict[str, Any]) -> int:
    """Track through the whole stream; returns the number of frames processed."""
    stream = frames(capture)
    first = next(stream, None)
    if first is None:
        raise RuntimeError(f"{meta['video']}: no frame could be read")
    if box is None:
        box = select_box(first)
        meta = {**meta, "init_bbox": list(box)}
    writer = None
    if output is not None:
        writer = AtomicVideoWriter(output, capture.get(cv2.CAP_PROP_FPS) or 25.0, (first.shape[1], first.shape[0]))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    sequence = SequenceInfo(dataset="video", name=Path(str(meta["video"])).stem or "video",
                            num_frames=count if count > 0 else None)  # a camera stream has no count
    boxes: list[tuple[float, ...]] = []
    outputs: dict[str, list[Any]] = {"scores": [], "seconds": [], "masks": []}
    try:
        for index, rgb in enumerate(_chain(first, stream)):
            start = time.perf_counter()
            current = tracker.initialize(rgb, box, sequence=sequence) if index == 0 else tracker.track(rgb)
            seconds = time.perf_counter() - start
            out = tracker.last_output
            boxes.append(current)
            outputs["seconds"].append(seconds)
            outputs["scores"].append(None if out.get("score") is None else float(out["score"]))
            outputs["masks"].append(_pack(out.get("segmentation")))
            fps = None if index == 0 else 1.0 / max(float(np.mean(outputs["seconds"][1:])), 1e-9)
            canvas = annotate(rgb, current, out, fps) if writer or display else None
            if writer is not None:
                writer.write(canvas)
            if display:
                cv2.imshow(WINDOW, canvas)
                if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                    break
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    if writer is not None:
        writer.commit()
    if results is not None:
        write_results(results, boxes, outputs, meta)
    return len(boxes)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("positional", nargs="*", metavar="TRACKER [CONFIG] VIDEO",
                        help="registered tracker, optional config (experiments/<tracker>/<config>.yaml), "
                             "video file or camera index")
    parser.add_argument("--box", type=parse_box, help="initial box x,y,w,h in pixels of the first frame")
    parser.add_argument("--checkpoint", help="network weights")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a tracker parameter")
    parser.add_argument("--output", type=Path, help="annotated video to write (.mp4 or .avi)")
    parser.add_argument("--results", type=Path, help="boxes file to write (x,y,w,h per frame)")
    parser.add_argument("--display", action="store_true", help="show the tracking live (needs a display)")
    parser.add_argument("--list", action="store_true", help="list the registered trackers and exit")
    args = parser.parse_args(argv)
    if args.list:
        return args
    if len(args.positional) not in (2, 3):
        parser.error("expected TRACKER [CONFIG] VIDEO")
    args.tracker, args.video = args.positional[0], args.positional[-1]
    args.config = args.positional[1] if len(args.positional) == 3 else None
    if args.box is None and not args.display:
        parser.error("no initial box: give --box x,y,w,h, or --display to draw it with the mouse")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.list:
        print("\n".join(available_trackers()))
        return 0
    if args.display and not display_available():
        if args.box is None:
            raise SystemExit("no display available to draw the initial box: give --box x,y,w,h")
        logger.warning("no display available: running headless")
        args.display = False
    tracker = load_tracker(args.tracker, args.config, args.checkpoint, args.overrides)
    capture = open_video(args.video)
    meta = {"tracker": args.tracker, "config": args.config, "checkpoint": args.checkpoint, "video": args.video,
            "init_bbox": list(args.box) if args.box else None}
    try:
        count = run(tracker, capture, args.box, args.results, args.output, args.display, meta)
    finally:
        capture.release()
        if args.display:
            cv2.destroyAllWindows()
    logger.info("%d frames tracked%s%s", count, f"; results {args.results}" if args.results else "",
                f"; video {args.output}" if args.output else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
