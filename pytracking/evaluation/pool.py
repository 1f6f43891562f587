"""Run items in worker processes, one fresh process per item, surviving workers that die.

``multiprocessing.Pool.imap_unordered`` waits forever for the result of a worker killed by a
signal (a SIGSEGV in a native library, ``os._exit``, the OOM killer). ``concurrent.futures``
notices the death instead and breaks the pool (``BrokenProcessPool``). This module keeps at most
``workers`` items in flight, so when the pool breaks only those items are suspects: the pool is
restarted, each suspect is run again alone in its own one-worker pool (an innocent item then
finishes normally; the culprit breaks its private pool and is reported through ``on_crash``),
and the remaining items continue in the restarted pool. No item is lost and nothing hangs.
"""
from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

CRASH_MESSAGE = "worker process died (killed by a signal such as SIGSEGV, or exited without returning)"


def _executor(workers: int, context: mp.context.BaseContext, initializer: Callable[[], None] | None) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, max_tasks_per_child=1)


def _run_alone(fn: Callable[[T], R], item: T, context: mp.context.BaseContext,
               initializer: Callable[[], None] | None) -> tuple[bool, R | None]:
    """``(True, result)``, or ``(False, None)`` when the item kills its worker."""
    with _executor(1, context, initializer) as pool:
        try:
            return True, pool.submit(fn, item).result()
        except BrokenProcessPool:
            return False, None


def run_in_processes(fn: Callable[[T], R], items: Iterable[T], workers: int, context: mp.context.BaseContext,
                     on_result: Callable[[T, R], None], on_crash: Callable[[T, str], None],
                     initializer: Callable[[], None] | None = None) -> None:
    """Call ``fn(item)`` for every item in ``workers`` fresh processes; ``on_result(item, result)``
    for each finished item, ``on_crash(item, message)`` for each item whose process died.

    ``fn`` and the items must be picklable; exceptions raised by ``fn`` itself propagate (wrap
    them into results inside ``fn`` when they should not stop the run).
    """
    queue = list(items)[::-1]  # pop() from the end keeps the given order
    if not queue:
        return
    workers = max(1, min(workers, len(queue)))
    while queue:
        suspects: list[T] = []
        with _executor(workers, context, initializer) as pool:
            running: dict[Future, T] = {}
            while queue or running:
                while queue and len(running) < workers:
                    item = queue.pop()
                    running[pool.submit(fn, item)] = item
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    item = running.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        suspects.append(item)
                        broken = True
                        continue
                    on_result(item, result)
                if broken:
                    suspects += list(running.values())  # their futures fail with the broken pool too
                    running.clear()
                    break
        for item in suspects:  # one at a time, alone, so a crash names its item
            ok, result = _run_alone(fn, item, context, initializer)
            if ok:
                on_result(item, result)
            else:
                on_crash(item, CRASH_MESSAGE)
