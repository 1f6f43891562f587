"""The CPU thread policy of the tracking tools and benchmarks (run_tracker, run_video, benchmarks/).

Why a policy: on a shared CPU, OpenMP's default is to keep idle worker threads spinning for a
while after each parallel region; with one other busy process a 2-thread BIT backbone then took
2.7-3.5x its idle time (issue 16), while sleeping idle threads (``OMP_WAIT_POLICY=PASSIVE``)
or a single thread lost far less. So the tools

* make idle OpenMP threads sleep (``OMP_WAIT_POLICY=PASSIVE``; ``KMP_BLOCKTIME=0`` for Intel's
  runtime) unless the user has set these variables: :func:`prefer_passive_waiting`, which must
  run before ``torch`` is imported, since OpenMP reads them once when it loads;
* use one torch thread per physical core this process may run on, or ``--threads N``
  (:func:`set_threads`); hyper-threads share a core's vector units and only add contention;
* the benchmark runner's worker processes keep their one thread each (the workers are the
  parallelism there, ``pytracking/evaluation/runner.py``).

This module imports nothing heavy, so CLIs can call it first.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from ltr.admin.cli_args import positive_int

PASSIVE_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0"}
_TOPOLOGY = Path("/sys/devices/system/cpu")


def prefer_passive_waiting() -> dict[str, str]:
    """Set the :data:`PASSIVE_ENV` variables the user has not set; returns the values in effect.

    Call before ``torch`` (or anything loading OpenMP) is imported; later it has no effect.
    """
    for key, value in PASSIVE_ENV.items():
        os.environ.setdefault(key, value)
    return {key: os.environ[key] for key in PASSIVE_ENV}


def allowed_cpus() -> set[int]:
    """The logical CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def physical_cores(topology: Path = _TOPOLOGY) -> int:
    """Physical cores among :func:`allowed_cpus` (from Linux's CPU topology files; elsewhere, or
    when they are unreadable, the number of allowed logical CPUs)."""
    cpus = allowed_cpus()
    cores = set()
    for cpu in cpus:
        base = topology / f"cpu{cpu}" / "topology"
        try:
            cores.add(((base / "physical_package_id").read_text().strip(), (base / "core_id").read_text().strip()))
        except OSError:
            return max(1, len(cpus))
    return max(1, len(cores))


def set_threads(threads: int | None = None) -> int:
    """Use ``threads`` torch intra-op threads (None: :func:`physical_cores`); returns the count."""
    import torch

    count = threads if threads is not None else physical_cores()
    if count < 1:
        raise ValueError(f"thread count must be >= 1, got {count}")
    torch.set_num_threads(count)
    return count


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """``--threads N`` with the policy's default in its help."""
    parser.add_argument("--threads", type=positive_int, default=None,
                        help=f"torch CPU threads (default: physical cores, here {physical_cores()}); idle "
                             "OpenMP threads sleep (OMP_WAIT_POLICY=PASSIVE unless set)")
