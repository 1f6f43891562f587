"""Run benchmark experiments: ``python pytracking/run_experiment.py <experiment> [...] [options]``.

For each experiment in order, reads ``experiments/<experiment>.yaml`` (or a YAML path), runs every (tracker, run, sequence)
job not finished yet, writes results under ``<workspace>/results/<benchmark>/``, and then runs
the analysis (``pytracking.analyze``) when that module exists. Exit status 1 when a job failed.
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: put the repo root, not pytracking/, on sys.path
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import argparse
import importlib.util
import logging
import os

from ltr.admin.paths import WORKSPACE_ENV
from ltr.config.experiment import list_experiments
from ltr.config.loader import ConfigError
from pytracking.evaluation.cli import print_registries, report
from pytracking.evaluation.experiment import load_experiment
from pytracking.evaluation.runner import StaleResultsError, parse_shard, run_experiment


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", nargs="*", metavar="experiment",
                        help="experiment names (experiments/<name>.yaml) or YAML paths, run in order")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override an experiment key, e.g. --set workers=4 --set dataset.split=test")
    parser.add_argument("--shard", default="1/1", help="run shard I of N (1-based), e.g. 2/4")
    parser.add_argument("--workspace", help="output root (default: paths file / $PYTRACKING_WORKSPACE)")
    parser.add_argument("--force", action="store_true", help="recompute finished sequences")
    parser.add_argument("--gpus", help="spread the workers over these GPUs, each worker pinned to one, "
                                       "e.g. 0,1,2 (same as --set gpus=[0,1,2])")
    parser.add_argument("--no-analyze", action="store_true", help="skip the analysis afterwards")
    parser.add_argument("--list", action="store_true", help="list experiments, datasets and trackers")
    return parser.parse_args(argv)


def analyze(experiment: str, overrides: list[str], workspace: str | None) -> int:
    """Call ``pytracking.analyze.main`` with the same experiment, overrides and workspace, when
    that module exists; 0 when it does not."""
    if importlib.util.find_spec("pytracking.analyze") is None:
        logging.getLogger(__name__).info("pytracking.analyze not available: skipping the analysis")
        return 0
    from pytracking import analyze as analysis

    argv = [experiment, *(f"--set={item}" for item in overrides)]
    if workspace:
        argv += ["--workspace", str(workspace)]
    return int(analysis.main(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.list or not args.experiments:
        print("experiments:", ", ".join(list_experiments()) or "(none)")
        print_registries()
        return 0 if args.list else 2
    if args.gpus:
        args.overrides.append(f"gpus=[{args.gpus}]")
    if args.workspace:  # one root for the whole command: results, generated data and the real-image pool,
        os.environ[WORKSPACE_ENV] = str(args.workspace)  # in the run and the analysis alike
    status = 0
    for name in args.experiments:
        status = max(status, run_one(name, args))
    return status


def run_one(name: str, args: argparse.Namespace) -> int:
    """Run and analyse one experiment; its exit status (2: refused, 1: a job failed)."""
    try:
        experiment = load_experiment(name, args.overrides)
        summary = run_experiment(experiment, args.workspace, parse_shard(args.shard), args.force)
    except (ConfigError, ValueError, KeyError, FileNotFoundError, StaleResultsError) as err:
        message = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
        print(f"error: {message if message.startswith(name) else f'{name}: {message}'}", file=sys.stderr)
        return 2
    status = report(summary)
    if status == 0 and experiment.analyze and not args.no_analyze and args.shard == "1/1":
        status = analyze(name, args.overrides, args.workspace)
    return status


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
