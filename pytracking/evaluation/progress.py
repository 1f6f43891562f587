"""Progress of a run that shows with or without a terminal.

On a terminal (stderr is a TTY and ``CI`` is unset) a tqdm bar is drawn. Otherwise — CI, nohup,
a cluster job writing to a file — nothing would show for a long time, so :class:`Progress` logs a
line (logger ``pytracking.progress``, INFO) for each finished job (at most one every
``min_interval`` = 5 s, so thousands of short jobs do not flood the log; the first and last
always), and a heartbeat every ``heartbeat`` = 30 s while no job finishes (jobs can take minutes). Each line has the counts, the elapsed time and an
ETA from the mean time per finished job::

    got10k: 12/180 jobs done (1 failed), 4m05s elapsed, ETA 57m10s
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from types import TracebackType

from tqdm import tqdm

logger = logging.getLogger("pytracking.progress")


def interactive() -> bool:
    """A terminal is watching: stderr is a TTY and this is not CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class Progress:
    """``with Progress(total, "got10k") as p: ... p.update(failed=False)`` after each job."""

    def __init__(self, total: int, desc: str, min_interval: float = 5.0, heartbeat: float = 30.0,
                 bar: bool | None = None) -> None:
        self.total, self.desc = total, desc
        self.min_interval, self.heartbeat = min_interval, heartbeat
        self.done = self.failed = 0
        self._bar = tqdm(total=total, desc=desc, unit="job") if (interactive() if bar is None else bar) else None
        self._start = self._last = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self._bar is None and self.total:
            logger.info("%s: %d jobs to run", self.desc, self.total)
            self._thread = threading.Thread(target=self._beat, name="progress-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bar is not None:
            self._bar.close()

    def line(self) -> str:
        """The status line: counts, elapsed time and (once a job finished) the ETA."""
        elapsed = time.monotonic() - self._start
        text = f"{self.desc}: {self.done}/{self.total} jobs done"
        if self.failed:
            text += f" ({self.failed} failed)"
        text += f", {_duration(elapsed)} elapsed"
        if 0 < self.done < self.total:
            text += f", ETA {_duration(elapsed / self.done * (self.total - self.done))}"
        return text

    def update(self, failed: bool = False) -> None:
        """One job finished."""
        with self._lock:
            self.done += 1
            self.failed += int(failed)
            if self._bar is not None:
                self._bar.update()
                return
            now = time.monotonic()
            if now - self._last >= self.min_interval or self.done == self.total or self.done == 1:
                self._last = now
                logger.info(self.line())

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            with self._lock:
                if time.monotonic() - self._last >= self.heartbeat:
                    self._last = time.monotonic()
                    logger.info(self.line() + " (still running)")
