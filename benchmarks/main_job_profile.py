"""Where the README main job's time goes: data generation and each tracker, in CPU seconds.

    python benchmarks/main_job_profile.py [--experiment synthetic] [--sequences 2] [--workers N]

The main job (``python pytracking/run_experiment.py synthetic``) generates the synthetic
benchmark, then runs every tracker of ``experiments/<experiment>.yaml`` on every sequence in
worker processes with one thread each. This script does the same work on ``--sequences`` of the
sequences in this process with one thread, measures CPU seconds (which, unlike wall time, hardly
depend on what else the machine runs), and scales each part to the full experiment. The estimate
for idle cores is the total CPU time divided by the experiment's workers (the runner hands out
sequence x tracker jobs, so the parts run in parallel; start-up and analysis are not included).
"""
from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from ltr.admin.cli_args import positive_int


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measured(work: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``work()``."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    work()
    return cpu_seconds() - cpu, time.perf_counter() - wall


def main(argv: Sequence[str] | None = None) -> int:
    from pytracking.evaluation.datasets import load_dataset
    from pytracking.evaluation.experiment import load_experiment
    from pytracking.evaluation.tracker import Tracker, TrackerSpec

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="synthetic")
    parser.add_argument("--sequences", type=positive_int, default=2, help="sequences actually run (the rest is scaled)")
    parser.add_argument("--workers", type=positive_int, default=None, help="workers of the estimate (default: the experiment's)")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    torch.set_num_threads(1)  # as the runner's workers
    experiment = load_experiment(args.experiment)
    entry = experiment.dataset
    if entry.name != "synthetic":
        parser.error(f"{args.experiment}: this profile generates the synthetic benchmark; got dataset {entry.name!r}")
    generator = dict(entry.options.get("generator", {}))
    total_sequences = int(generator.get("num_sequences", 50))
    sample = min(args.sequences, total_sequences)
    workers = args.workers or max(1, experiment.workers)
    rows: list[tuple[str, float, float, float]] = []  # name, measured cpu, per-unit cpu, scaled cpu
    with tempfile.TemporaryDirectory() as root:
        options = {**entry.options, "generator": {**generator, "num_sequences": sample, "workers": 1}}
        cpu, _ = measured(lambda: list(load_dataset("synthetic", split=entry.split, root=root, **options)))
        rows.append(("generate benchmark", cpu, cpu / sample, cpu / sample * total_sequences))
        dataset = load_dataset("synthetic", split=entry.split, root=root, **options)
        sequences = list(dataset)
        frames = sum(len(seq) for seq in sequences)
        for t in experiment.trackers:
            tracker = Tracker(TrackerSpec(t.name, t.config, t.checkpoint, tuple(t.overrides), t.display_name))
            load_cpu, _ = measured(lambda: tracker.run_sequence(sequences[0], seed=0))  # includes loading, warm-up
            cpu, _ = measured(lambda: [tracker.run_sequence(seq, seed=0) for seq in sequences])
            per_frame = cpu / frames
            scaled = per_frame * frames / sample * total_sequences * t.runs
            rows.append((f"{t.display_name or t.name} ({t.name}/{t.config or '-'})", cpu, per_frame, scaled))
    total = sum(r[3] for r in rows)
    print(f"{args.experiment}: {total_sequences} sequences, measured on {sample} ({frames} frames) with 1 thread; "
          f"CPU seconds scaled to the full job")
    print(f"{'part':<40}{'CPU s measured':>16}{'ms CPU / unit':>16}{'CPU s (full)':>14}{'share':>8}")
    for name, cpu, unit, scaled in rows:
        unit_name = "seq" if name.startswith("generate") else "frame"
        print(f"{name:<40}{cpu:>16.1f}{unit * 1e3:>12.1f}/{unit_name:<3}{scaled:>14.0f}{scaled / total:>8.1%}")
    print(f"total {total:.0f} CPU s; on {workers} idle cores about {total / workers / 60:.1f} min "
          f"(tracker start-up and analysis not included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
