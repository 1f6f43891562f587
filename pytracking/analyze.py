"""Analyse a benchmark experiment: ``python pytracking/analyze.py <experiment> [options]``.

Reads ``experiments/<experiment>.yaml`` (or a YAML path), loads its sequences through the
dataset registry — annotations only: frames are not needed to score — and every method's results
(runner ``RunDir`` folders; results-only folders or zips in any toolkit layout), scores them under
the benchmark's official protocol (or ``--protocol``), prints the tables and writes
``report.json``, CSV tables and PNG/PDF plots under ``<workspace>/analysis/<experiment>/``.
Sequences whose annotations are not on disk are left out and listed.

Exit status: 0 when the report was written (refused methods, left-out sequences and EAO window
warnings are in it); with ``--strict``, 1 if any of those happened. 1 when results are missing
and ``--allow-missing`` was not given (they are named, no report), 2 for a bad experiment or option.
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

from ltr.admin.cli_errors import one_line
from ltr.admin.paths import load_paths
from ltr.config.loader import ConfigError
from pytracking.analysis.benchmark import MissingResultsError, analyze_attributes, analyze_methods
from pytracking.analysis.loading import MethodResults, load_method, load_results_only
from pytracking.analysis.protocols import DEFAULT_PROTOCOL, PROTOCOLS, get_protocol
from pytracking.analysis.raw_import import RawResultsError
from pytracking.analysis.report import format_report, write_attribute_plots, write_report
from pytracking.evaluation.annotations import MissingFileError
from pytracking.evaluation.experiment import Experiment, load_experiment
from pytracking.evaluation.results import RunDir
from pytracking.evaluation.runner import RAW_CONFIG, build_dataset
from pytracking.evaluation.sequence import Sequence
from pytracking.evaluation.tracker import Tracker, TrackerSpec, results_folder_name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", nargs="?", help="experiment name (experiments/<name>.yaml) or YAML path")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override an experiment key, e.g. --set dataset.split=test")
    parser.add_argument("--protocol", choices=sorted(PROTOCOLS), help="protocol (default: the benchmark's own)")
    parser.add_argument("--exclude-invalid-frames", action="store_true",
                        help="otb/uav/nfs: divide by the valid frames only (pytracking option)")
    parser.add_argument("--allow-missing", action="store_true",
                        help="score the sequences every method has instead of failing on missing results")
    parser.add_argument("--sequences", help="comma-separated sequence names to score (default: the experiment's)")
    parser.add_argument("--eao-low", type=int, help="VOT EAO window start (default: the protocol's, e.g. 100)")
    parser.add_argument("--eao-high", type=int, help="VOT EAO window end (default: the protocol's, e.g. 356)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a method was refused, a sequence left out or an EAO warning raised")
    parser.add_argument("--workspace", help="output root (default: paths file / $PYTRACKING_WORKSPACE)")
    parser.add_argument("--out", help="output folder (default: <workspace>/analysis/<experiment>)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG/PDF plots")
    parser.add_argument("--attribute-plots", action="store_true",
                        help="also plot every curve per attribute (all attributes, into <out>/attributes/<name>/)")
    parser.add_argument("--list", action="store_true", help="list the protocols and exit")
    return parser.parse_args(argv)


def method_results(experiment: Experiment, benchmark: str, results_root: Path, sequences: list[Sequence],
                   kind: str) -> list[MethodResults]:
    """Every tracker configuration and results-only method of the experiment, loaded from disk.

    A results-only method is read from its own folder or zip when it exists (every repetition,
    any toolkit layout), else from the runner's import of it."""
    methods = []
    for entry in experiment.trackers:
        # built without the checkpoint, which may live elsewhere: the folder name needs its path only
        tracker = Tracker(TrackerSpec(entry.name, entry.config, None, tuple(entry.overrides), entry.display_name))
        folder = results_folder_name(entry.config, entry.overrides, entry.checkpoint, tracker.config_hash)
        runs = [RunDir(results_root, benchmark, entry.name, folder, r) for r in range(entry.runs)]
        method = load_method(tracker.display_name, runs, sequences, kind)
        method.reference = tracker.cls.reference
        methods.append(method)
    for raw in experiment.results_only:
        label = raw.display_name or raw.name
        imported = RunDir(results_root, benchmark, raw.name, RAW_CONFIG, 0)
        if raw.folder and Path(raw.folder).exists():
            methods.append(load_results_only(label, raw.folder, sequences, kind, raw.layout))
        elif imported.path.is_dir():
            methods.append(load_method(label, [imported], sequences, kind))
        else:
            raise RawResultsError(f"results-only method {label}: {raw.folder or '(no folder given)'}: no such results "
                                  f"folder or zip (or a symbolic link loop), and no copy imported by the runner in "
                                  f"{imported.path}")
    return methods


def load_sequences(dataset: object) -> tuple[list[Sequence], dict[str, str]]:
    """The dataset's sequences whose annotations are on disk, and why the others are left out."""
    sequences, left_out = [], {}
    for name in dataset.sequence_names():
        try:
            sequences.append(dataset.sequence(name))
        except MissingFileError as err:
            left_out[name] = str(err)
    return sequences, left_out


def with_image_size(seq: Sequence) -> Sequence:
    """VOT overlaps are bounded to the image: take (W, H) from the first frame when the sequence
    file does not state it (only the image header is read; no frames, no size — the protocol
    then warns)."""
    if seq.image_size is None and seq.frames and Path(seq.frames[0]).is_file():
        from PIL import Image

        with Image.open(seq.frames[0]) as image:
            seq.image_size = image.size
    return seq


def run(args: argparse.Namespace) -> int:
    experiment = load_experiment(args.experiment, args.overrides)
    wanted = [n.strip() for n in args.sequences.split(",") if n.strip()] if args.sequences else experiment.sequences
    dataset = build_dataset(experiment.dataset, wanted, experiment.attribute).without_frames()
    protocol = args.protocol or DEFAULT_PROTOCOL.get(experiment.dataset.name)
    if protocol is None:
        raise ValueError(f"no default protocol for dataset '{experiment.dataset.name}'; pass --protocol")
    info = get_protocol(protocol)
    if args.exclude_invalid_frames and protocol not in ("otb", "uav", "nfs"):
        raise ValueError(f"--exclude-invalid-frames is a pytracking option (otb, uav, nfs), not {protocol}'s")
    options: dict[str, object] = {"exclude_invalid_frames": True} if args.exclude_invalid_frames else {}
    for flag, key in ((args.eao_low, "low"), (args.eao_high, "high")):
        if flag is not None:
            if info.kind == "boxes":
                raise ValueError(f"--eao-low/--eao-high apply to the VOT protocols, not {protocol}")
            if flag < 1:
                raise ValueError(f"--eao-{key} must be at least 1, got {flag}")
            options[key] = flag
    if options.get("low", 1) > options.get("high", options.get("low", 1)):
        raise ValueError(f"--eao-low {options['low']} is past --eao-high {options['high']}")
    paths = load_paths(args.workspace)
    sequences, left_out = load_sequences(dataset)
    if info.kind != "boxes":
        sequences = [with_image_size(s) for s in sequences]
    methods = method_results(experiment, dataset.results_name, paths.results, sequences, info.kind)
    try:
        report = analyze_methods(protocol, sequences, methods, experiment.name, args.allow_missing, **options)
    except MissingResultsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    report.left_out = left_out
    report.notes[:0] = [f"{m.label}: read from {m.source}" for m in methods if m.source]
    print(format_report(report))
    out = Path(args.out) if args.out else paths.analysis / experiment.name
    written = write_report(report, out, plots=not args.no_plots)
    if args.attribute_plots and not args.no_plots:
        scored = [s for s in sequences if s.name not in report.dropped_sequences]
        written += write_attribute_plots(analyze_attributes(protocol, scored, methods, experiment.name, **options),
                                         out / "attributes")
    print(f"\nwrote {len(written)} files to {out}")
    troubles = report.refused or report.left_out or report.dropped_sequences or any(
        r.extra.get("warnings") for r in report.results)
    return 1 if args.strict and troubles else 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.list or not args.experiment:
        for name, info in PROTOCOLS.items():
            print(f"{name:12s} {info.description}")
        return 0 if args.list else 2
    try:
        return run(args)
    except (ConfigError, ValueError, KeyError, FileNotFoundError) as err:  # AnnotationError, RawResultsError too
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
