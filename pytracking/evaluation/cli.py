"""Shared bits of the command-line scripts: listing the registries and reporting a run."""
from __future__ import annotations

import sys

from pytracking.evaluation.datasets import EVAL_DATASETS
from pytracking.evaluation.runner import RunSummary
from pytracking.tracker.base import TRACKERS


def print_registries() -> None:
    """Print the registered evaluation datasets and trackers."""
    print("datasets:", ", ".join(EVAL_DATASETS.names()))
    print("trackers:", ", ".join(TRACKERS.names()))


def report(summary: RunSummary) -> int:
    """Print a run's summary (and each failure's message); exit status 1 when a job failed."""
    print(f"{summary.benchmark}: {summary.planned} jobs, {summary.skipped} already finished, {summary.done} run, "
          f"{len(summary.errors)} failed; results in {summary.results_root / summary.benchmark}")
    for error in summary.errors:
        print(f"  FAILED {error.key}: {error.message}", file=sys.stderr)
    if summary.errors:
        print(f"tracebacks: {summary.errors_file}", file=sys.stderr)
    return 1 if summary.errors else 0
