"""TraX tracker process for vot-toolkit: ``python pytracking/run_vot.py <tracker> [config] [--checkpoint P]``.

vot-toolkit starts this command (see ``trackers.ini`` written by ``python -m
pytracking.vot_integration.workspace``) and drives it over TraX on stdin/stdout. Any registered
tracker works; segmentation trackers report masks. Logs go to stderr. ``--dataset`` names the
benchmark the tracker is told it runs on (per-benchmark settings such as BIT's template update
interval key on it); the workspace writer sets it from the stack.
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: put the repo root, not pytracking/, on sys.path
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import argparse
import logging

from pytracking.api import load_tracker


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tracker", help="registered tracker name")
    parser.add_argument("config", nargs="?", help="tracker config: experiments/<tracker>/<config>.yaml or a YAML path")
    parser.add_argument("--checkpoint", help="network weights (or an ONNX export's manifest.json)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a tracker parameter")
    parser.add_argument("--seed", type=int, default=0, help="seed passed to the tracker on initialisation")
    parser.add_argument("--dataset", default="vot",
                        help="benchmark name given to the tracker, e.g. vot2018, vot2020 (default: vot)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    from pytracking.vot_integration.trax_server import serve

    tracker = load_tracker(args.tracker, args.config, args.checkpoint, args.overrides, seed=args.seed)
    serve(tracker, name=args.tracker if args.config is None else f"{args.tracker}/{args.config}",
          dataset=args.dataset)
    return 0


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
