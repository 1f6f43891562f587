"""Run one tracker configuration on a dataset (or some of its sequences).

``python pytracking/run_tracker.py <tracker> [config] --dataset NAME [--split S] [--sequence SEQ ...]
[--checkpoint P]`` writes results like an experiment with that single tracker (resumable);
``--visualize DIR`` instead writes frames with the predicted box drawn and saves no results.
Threads: ``--threads N`` (default: physical cores) in this process, i.e. with ``--workers 0`` or
``--visualize``; worker processes use one thread each (``ltr/admin/threads.py``).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: put the repo root, not pytracking/, on sys.path
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from ltr.admin.cli_errors import one_line
from ltr.admin.threads import add_threads_argument, prefer_passive_waiting, set_threads

if __name__ == "__main__":
    prefer_passive_waiting()  # before torch loads OpenMP (see ltr/admin/threads.py)

import argparse
import logging

from ltr.config.experiment import experiments_dir
from ltr.config.loader import ConfigError
from pytracking.evaluation.cli import print_registries, report
from pytracking.evaluation.experiment import DatasetEntry, Experiment, TrackerEntry
from pytracking.evaluation.runner import build_dataset, job_seed, run_experiment
from pytracking.evaluation.tracker import Tracker, TrackerSpec


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tracker", nargs="?", help="registered tracker name (--list shows them)")
    parser.add_argument("config", nargs="?", default="default",
                        help="tracker config: experiments/<tracker>/<config>.yaml or a YAML path (default: default)")
    parser.add_argument("--dataset", help="evaluation dataset name")
    parser.add_argument("--split", help="dataset split")
    parser.add_argument("--root", help="dataset folder (default: from the paths file)")
    parser.add_argument("--sequence", action="append", default=[], help="only this sequence (repeatable)")
    parser.add_argument("--checkpoint", help="network weights")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a tracker parameter")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes, one torch thread each; 0 tracks in this process with --threads")
    add_threads_argument(parser)
    parser.add_argument("--workspace", help="output root")
    parser.add_argument("--visualize", metavar="DIR", help="write frames with boxes to DIR (no results saved)")
    parser.add_argument("--list", action="store_true", help="list datasets and trackers")
    return parser.parse_args(argv)


def resolve_config(tracker: str, config: str | None) -> str | None:
    """``default`` without an ``experiments/<tracker>/default.yaml`` means the tracker's built-in defaults."""
    if config in (None, "default") and not (experiments_dir() / tracker / "default.yaml").is_file():
        return None
    return config


def visualize(args: argparse.Namespace, config: str | None) -> int:
    """Track each sequence in this process and write annotated frames under ``args.visualize``."""
    dataset = build_dataset(DatasetEntry(args.dataset, args.split, args.root), args.sequence)
    tracker = Tracker(TrackerSpec(args.tracker, config, args.checkpoint, tuple(args.overrides)))
    for seq in dataset:
        out = tracker.run_sequence(seq, seed=job_seed(f"visualize/{seq.name}"), visualize_dir=Path(args.visualize))
        print(f"{seq.name}: {len(seq)} frames, {len(seq) / max(out['times'].sum(), 1e-9):.1f} fps")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.list or not args.tracker or not args.dataset:
        print_registries()
        return 0 if args.list else 2
    config = resolve_config(args.tracker, args.config)
    set_threads(args.threads)
    try:
        if args.visualize:
            return visualize(args, config)
        experiment = Experiment(
            name=f"{args.tracker}_{Path(config).stem if config else 'default'}",
            dataset=DatasetEntry(args.dataset, args.split, args.root),
            trackers=[TrackerEntry(args.tracker, config, args.checkpoint, args.runs, None, list(args.overrides))],
            sequences=list(args.sequence), workers=args.workers, analyze=False)
        return report(run_experiment(experiment, args.workspace))
    except (ConfigError, ValueError, KeyError, FileNotFoundError) as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
