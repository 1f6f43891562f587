"""Track one object through a video file or camera: ``python pytracking/run_video.py <tracker> [config] VIDEO``.

``VIDEO`` is any file OpenCV reads, or a camera index (``0``). The initial box comes from
``--box x,y,w,h``, or is drawn with the mouse (``cv2.selectROI``) when ``--display`` is given and
a display exists; headless without ``--box`` is an error. Outputs:

* ``--results out.txt``: one ``x,y,w,h`` line per frame (written atomically at the end), plus
  ``out.json`` (tracker, video, per-frame scores and seconds) and, for segmentation trackers,
  ``out_masks.npz`` (``masks``: N x H x W uint8);
* ``--output out.mp4`` (``.avi``: MJPG): the video with the box, mask overlay, score and FPS drawn.

``--start N`` begins at frame N (0-based; the box is in that frame), ``--max-frames M`` stops after
M frames. Progress goes to stderr (a tqdm bar on a terminal, else a log line every
``--progress-every`` frames). Ctrl-C or SIGTERM stops tracking, and what was tracked so far is
still written (results atomically, the video closed and renamed; ``"interrupted": true`` in the
JSON); the exit status is then 130 (SIGINT) or 143 (SIGTERM).

Threads: ``--threads N`` (default: physical cores), idle OpenMP threads sleeping
(``ltr/admin/threads.py``).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: put the repo root, not pytracking/, on sys.path
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from ltr.admin.threads import add_threads_argument, prefer_passive_waiting, set_threads

if __name__ == "__main__":
    prefer_passive_waiting()  # before torch loads OpenMP (see ltr/admin/threads.py)

import argparse
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from ltr.admin.atomic import atomic_write_text, atomic_write_with, check_writable
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


def skip_frames(capture: cv2.VideoCapture, count: int, source: str) -> None:
    """Advance past ``count`` frames (grabbed in order, exact for every codec, unlike seeking)."""
    for index in range(count):
        if not capture.grab():
            raise ValueError(f"--start {count}: {source} has only {index} frames")


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


class Progress:
    """Frames tracked so far: a tqdm bar on a terminal, else a log line every ``every`` frames."""

    def __init__(self, total: int | None, every: int) -> None:
        self.bar = tqdm(total=total, unit="frame", desc="tracking") if sys.stderr.isatty() else None
        self.total, self.every, self.count, self.start = total, every, 0, time.perf_counter()

    def update(self) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.update()
        elif self.every and self.count % self.every == 0:
            rate = self.count / max(time.perf_counter() - self.start, 1e-9)
            logger.info("%d%s frames tracked (%.1f frames/s)", self.count,
                        f"/{self.total}" if self.total else "", rate)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def remaining_frames(capture: cv2.VideoCapture, start: int, max_frames: int | None) -> int | None:
    """Frames that will be tracked, when the container says how many it has (cameras do not)."""
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    total = max(count - start, 0) if count > 0 else None
    if max_frames is not None:
        total = max_frames if total is None else min(total, max_frames)
    return total


def run(tracker: TrackerHandle, capture: cv2.VideoCapture, box: tuple[float, float, float, float] | None,
        results: Path | None, output: Path | None, display: bool, meta: dict[str, Any],
        max_frames: int | None = None, progress_every: int = 100) -> int:
    """Track until the stream ends, ``max_frames`` are done or an interrupt; returns the number of
    frames processed. On KeyboardInterrupt (Ctrl-C, or SIGTERM through :func:`main`) the frames
    done so far are written as on a normal end, marked ``interrupted``, and the interrupt re-raised."""
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
    progress = Progress(remaining_frames(capture, meta.get("start_frame", 0), max_frames), progress_every)
    interrupted: KeyboardInterrupt | None = None
    try:
        for index, rgb in enumerate(_chain(first, stream)):
            if max_frames is not None and index >= max_frames:
                break
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
            progress.update()
            if display:
                cv2.imshow(WINDOW, canvas)
                if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                    break
    except KeyboardInterrupt as err:  # keep what was tracked: flushed below, then re-raised
        interrupted = err
        logger.warning("interrupted after %d frames: writing what was tracked", len(boxes))
        del boxes[len(outputs["masks"]):]  # a frame interrupted half-way is dropped
        for key in ("scores", "seconds"):
            del outputs[key][len(boxes):]
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    finally:
        progress.close()
    if writer is not None:
        writer.commit()
    if results is not None and boxes:
        write_results(results, boxes, outputs, {**meta, "interrupted": interrupted is not None})
    if interrupted is not None:
        raise interrupted
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
    parser.add_argument("--start", type=int, default=0, metavar="N",
                        help="first frame to track (0-based); --box is in that frame")
    parser.add_argument("--max-frames", type=int, metavar="M", help="stop after M frames")
    parser.add_argument("--progress-every", type=int, default=100, metavar="K",
                        help="without a terminal: log progress every K frames (0: never)")
    parser.add_argument("--list", action="store_true", help="list the registered trackers and exit")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    if args.list:
        return args
    if len(args.positional) not in (2, 3):
        parser.error("expected TRACKER [CONFIG] VIDEO")
    args.tracker, args.video = args.positional[0], args.positional[-1]
    args.config = args.positional[1] if len(args.positional) == 3 else None
    if args.box is None and not args.display:
        parser.error("no initial box: give --box x,y,w,h, or --display to draw it with the mouse")
    if args.start < 0 or (args.max_frames is not None and args.max_frames < 1):
        parser.error("--start must be >= 0 and --max-frames >= 1")
    if args.start and args.video.isdigit():
        parser.error("--start needs a video file, not a camera")
    return args


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so the frames tracked so far are written."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


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
    set_threads(args.threads)
    if args.results is not None and args.results.suffix.lower() == ".json":
        raise ValueError(f"--results {args.results}: the boxes file needs another suffix than .json, the name of "
                         "its JSON sidecar (e.g. --results out.txt writes out.txt and out.json)")
    if args.results is not None and args.output is not None and args.results.resolve() == args.output.resolve():
        raise ValueError(f"--results and --output are the same file {args.results}")
    for target in (args.results, args.output):
        if target is not None:
            check_writable(target)  # before tracking the whole video, not after
    tracker = load_tracker(args.tracker, args.config, args.checkpoint, args.overrides)
    capture = open_video(args.video)
    meta = {"tracker": args.tracker, "config": args.config, "checkpoint": args.checkpoint, "video": args.video,
            "init_bbox": list(args.box) if args.box else None, "start_frame": args.start}
    try:
        skip_frames(capture, args.start, args.video)
    except ValueError as err:
        capture.release()
        print(f"error: {err}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        count = run(tracker, capture, args.box, args.results, args.output, args.display, meta,
                    args.max_frames, args.progress_every)
    except KeyboardInterrupt as err:
        logger.info("stopped by %s; results so far written", "SIGTERM" if isinstance(err, Terminated) else "Ctrl-C")
        return 128 + (signal.SIGTERM if isinstance(err, Terminated) else signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
        capture.release()
        if args.display:
            cv2.destroyAllWindows()
    logger.info("%d frames tracked%s%s", count, f"; results {args.results}" if args.results else "",
                f"; video {args.output}" if args.output else "")
    return 0


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
