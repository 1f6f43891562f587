"""Workspace locks: one process at a time for first-use generation and for shared writers.

Two runs started on a fresh workspace (two unsharded runs, or ``--shard 1/2`` and ``--shard 2/2``)
would both generate the synthetic benchmark and delete each other's staging folders. An advisory
``fcntl.flock`` on a lock file next to the thing being written serialises them: the second waits,
then finds the work done. The kernel drops the lock when its holder dies, so a killed run never
leaves a stale lock behind.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from pathlib import Path
from typing import Iterator

logger = logging.getLogger(__name__)


class LockTimeout(TimeoutError):
    """Another process held the lock for longer than the caller was willing to wait."""


@contextlib.contextmanager
def workspace_lock(path: str | os.PathLike, what: str = "", timeout: float | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on the file ``path`` (created if needed) for the ``with`` block.

    Waits for another holder (logging once that it waits, naming ``what``); ``timeout`` seconds
    (None: forever) then raises :class:`LockTimeout` naming the lock file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("waiting for another process to finish %s (lock %s)", what or "its work", path)
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LockTimeout(f"{path}: still locked by another process after {timeout:.0f} s "
                                          f"({what}); wait for it or remove the other run") from None
                    time.sleep(0.1)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
