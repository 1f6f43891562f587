"""A TraX server for any registered tracker: the process vot-toolkit starts and talks to (metrics.md §8).

Box trackers announce the ``rectangle`` region format and report ``target_bbox``; segmentation
trackers (class attribute ``produces_segmentation = True``) announce ``mask`` and report their
``segmentation``. Images come as file paths. Every reply carries the tracker's ``score`` as the
``confidence`` property when it gives one. TraX uses stdin/stdout, so this process must not print
to stdout; logging goes to stderr.
"""
from __future__ import annotations

import contextlib
import logging
import os
import select
import stat
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from pytracking.api import TrackerHandle, as_image
from pytracking.tracker.base import SequenceInfo
from pytracking.vot_integration.regions import init_info, output_region

logger = logging.getLogger(__name__)


def region_formats(handle: TrackerHandle) -> list[str]:
    """The region formats to announce: mask for segmentation trackers, rectangle otherwise."""
    import trax

    return [trax.Region.MASK] if handle.produces_segmentation else [trax.Region.RECTANGLE]


def _properties(out: dict[str, Any]) -> dict[str, str]:
    score = out.get("score")
    return {} if score is None else {"confidence": f"{float(score):.6f}"}


class TraxSessionError(RuntimeError):
    """The TraX session failed: a protocol error, or a request this tracker cannot serve."""


def input_at_end(fd: int = 0) -> bool:
    """Whether everything the client will ever send on ``fd`` has been read: a pipe or socket whose
    writer is gone with no data left, or a regular file read to its end. False when unsure (a TTY)."""
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            return os.lseek(fd, 0, os.SEEK_CUR) >= info.st_size
        if not (stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode)):
            return False
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | getattr(select, "POLLRDHUP", 0))
        events = dict(poller.poll(0)).get(fd, 0)
    except OSError:
        return False
    if stat.S_ISFIFO(info.st_mode):
        return bool(events & select.POLLHUP) and not events & select.POLLIN
    return bool(events & (select.POLLHUP | getattr(select, "POLLRDHUP", 0)))


class EndOfInputWatch:
    """Ends the process when the client's input ends while libtrax waits for a message: vot-trax 4.0
    then spins on the closed input at full CPU instead of returning. Checks every ``interval`` s,
    only while :meth:`waiting` is active, so messages libtrax has buffered are answered first."""

    def __init__(self, fd: int = 0, interval: float = 0.5) -> None:
        self.fd, self.interval = fd, interval
        self._waiting_since: float | None = None
        threading.Thread(target=self._watch, name="trax-end-of-input", daemon=True).start()

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        self._waiting_since = time.monotonic()
        try:
            yield
        finally:
            self._waiting_since = None

    def _watch(self) -> None:
        while True:
            time.sleep(self.interval)
            since = self._waiting_since
            if since is not None and time.monotonic() - since > self.interval and input_at_end(self.fd):
                sys.stderr.write("error: the TraX client's input ended without a quit message; stopping\n")
                sys.stderr.flush()
                os._exit(2)


def serve(handle: TrackerHandle, name: str = "", dataset: str = "vot") -> int:
    """Answer TraX requests with ``handle`` until the client quits; returns the number of frames tracked.

    Each initialisation tells the tracker it runs on benchmark ``dataset`` (TraX does not name the
    sequence, so the sequences are numbered in the order the toolkit starts them). A request that
    fails (an unreadable image, a region outside it) ends the session with the reason sent to the
    client and a :class:`TraxSessionError` naming it; input that ends without a quit message ends
    the process (:class:`EndOfInputWatch`)."""
    import trax

    formats = region_formats(handle)
    mask_format = formats == [trax.Region.MASK]
    frames = starts = 0
    watch = EndOfInputWatch()
    try:
        server = trax.Server(formats, [trax.Image.PATH], tracker_name=name or handle.name)
    except trax.TraxException as err:
        raise TraxSessionError(f"TraX handshake failed: {err}") from None
    try:
        while True:
            with watch.waiting():
                request = server.wait()
            if request.type == "quit" or request.type == "error":
                break
            image = as_image(request.image["color"].path())
            if request.type == "initialize":
                region = request.objects[0][0]
                info = init_info(region, image.shape[1], image.shape[0])
                starts += 1
                sequence = SequenceInfo(dataset=dataset, name=f"trax_{starts:04d}")
                handle.initialize(image, info.pop("init_bbox"), sequence=sequence, **info)
                server.status([(region, {})])
            else:
                handle.track(image)
                server.status([(output_region(handle.last_output, mask_format), _properties(handle.last_output))])
            frames += 1
    except Exception as err:  # noqa: BLE001 - every failure ends the session with its reason, once
        reason = f"{type(err).__name__}: {err}" if isinstance(err, trax.TraxException) else str(err)
        with contextlib.suppress(trax.TraxException):
            server.quit(reason=reason)
        if isinstance(err, trax.TraxException):
            raise TraxSessionError(f"TraX protocol error after {frames} frames: {err}") from None
        raise
    with contextlib.suppress(trax.TraxException):  # the client may already be gone
        server.quit()
    logger.info("trax session ended after %d frames", frames)
    return frames
