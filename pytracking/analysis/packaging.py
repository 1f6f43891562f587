"""Submission zips for the evaluation servers, validated against the layout before zipping.

* GOT-10k test: one folder per sequence with ``<seq>_001.txt`` .. ``<seq>_00k.txt`` (one per run,
  k <= 3, comma-separated boxes) and ``<seq>_time.txt`` (seconds per frame, from the last run).
* TrackingNet: flat ``<seq>.txt`` files at the zip root, ``%.2f`` comma-separated.

Validation collects every problem (missing sequence, line count different from the frame count,
non-finite numbers) and raises :class:`SubmissionError` listing them; nothing is written then.
The zip is written to a temp file and renamed, so a crash never leaves a truncated zip.
CLI: ``python -m pytracking.analysis.packaging <experiment> --tracker NAME [--config C] [--out F]``.
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ltr.admin.atomic import atomic_open
from ltr.admin.names import SequenceName, UnsafeNameError
from ltr.admin.paths import load_paths
from pytracking.evaluation.results import ResultsFormatError, RunDir, read_boxes

MAX_PROBLEMS_SHOWN = 20


class SubmissionError(ValueError):
    """Results that do not make a valid submission; the message lists every problem found."""


def _read_checked(path: Path, frames: int, columns: int, problems: list[str]) -> np.ndarray | None:
    if not path.is_file():
        problems.append(f"{path}: missing")
        return None
    try:
        values = read_boxes(path, columns=columns)
    except ResultsFormatError as err:
        problems.append(str(err))
        return None
    if len(values) != frames:
        problems.append(f"{path}: {len(values)} lines for {frames} frames")
    elif not np.isfinite(values).all():
        problems.append(f"{path}: non-finite values on line {int(np.argmin(np.isfinite(values).all(axis=1))) + 1}")
    else:
        return values
    return None


def _check_sequence_names(frames: Mapping[str, int]) -> None:
    try:
        for seq in frames:
            SequenceName(seq, "submission sequence")
    except UnsafeNameError as err:
        raise SubmissionError(str(err)) from None


def _raise_if(problems: list[str], what: str) -> None:
    if problems:
        shown = "\n  ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = f"\n  ... and {len(problems) - MAX_PROBLEMS_SHOWN} more" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        raise SubmissionError(f"{what}: {len(problems)} problem(s):\n  {shown}{more}")


def _write_zip(out: Path, files: Mapping[str, str]) -> Path:
    """Write the zip; every member name is checked part by part (no ``..``, no absolute names)."""
    for name in files:
        try:
            for part in name.split("/"):
                SequenceName(part, f"submission member {name!r}")
        except UnsafeNameError as err:
            raise SubmissionError(str(err)) from None
    with atomic_open(out, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
    return out


def _format(values: np.ndarray, fmt: str) -> str:
    return "".join(",".join(fmt % v for v in row) + "\n" for row in values)


def package_got10k(run_dirs: Sequence[RunDir], frames: Mapping[str, int], out: str | Path) -> Path:
    """Zip 1-3 runs of GOT-10k test results; ``frames`` maps every test sequence to its frame count."""
    if not 1 <= len(run_dirs) <= 3:
        raise SubmissionError(f"GOT-10k takes 1 to 3 runs, got {len(run_dirs)}")
    problems: list[str] = []
    files: dict[str, str] = {}
    _check_sequence_names(frames)
    for seq, n in frames.items():
        for k, run_dir in enumerate(run_dirs, start=1):
            boxes = _read_checked(run_dir.boxes_file(seq), n, 4, problems)
            if boxes is not None:
                files[f"{seq}/{seq}_{k:03d}.txt"] = _format(boxes, "%.4f")
        times = _read_checked(run_dirs[-1].times_file(seq), n, 1, problems)
        if times is not None:
            files[f"{seq}/{seq}_time.txt"] = _format(times, "%.6f")
    _raise_if(problems, "GOT-10k submission")
    return _write_zip(Path(out), files)


def package_trackingnet(run_dir: RunDir, frames: Mapping[str, int], out: str | Path) -> Path:
    """Zip one run of TrackingNet test results as flat ``<seq>.txt`` files with ``%.2f`` values."""
    _check_sequence_names(frames)
    problems: list[str] = []
    files: dict[str, str] = {}
    for seq, n in frames.items():
        boxes = _read_checked(run_dir.boxes_file(seq), n, 4, problems)
        if boxes is not None:
            files[f"{seq}.txt"] = _format(boxes, "%.2f")
    _raise_if(problems, "TrackingNet submission")
    return _write_zip(Path(out), files)


def package_experiment(experiment: str, tracker: str, config: str | None = None, out: str | Path | None = None,
                       workspace: str | Path | None = None, overrides: Sequence[str] = ()) -> Path:
    """Package a tracker's results of a GOT-10k test or TrackingNet experiment into a submission zip."""
    from pytracking.evaluation.experiment import load_experiment
    from pytracking.evaluation.runner import build_dataset
    from pytracking.evaluation.tracker import Tracker, TrackerSpec

    exp = load_experiment(experiment, overrides)
    entries = [t for t in exp.trackers if t.name == tracker and (config is None or t.config == config)]
    if not entries:
        raise SubmissionError(f"experiment '{exp.name}' has no tracker '{tracker}'"
                              + (f" with config '{config}'" if config else ""))
    entry = entries[0]
    configured = Tracker(TrackerSpec(entry.name, entry.config, entry.checkpoint, tuple(entry.overrides)))
    paths = load_paths(workspace)
    dataset = build_dataset(exp.dataset, paths=paths)
    frames = {seq.name: len(seq) for seq in dataset}
    root = paths.results
    runs = [RunDir(root, dataset.results_name, entry.name, configured.config_name, r) for r in range(entry.runs)]
    out = Path(out) if out else root / dataset.results_name / "submissions" / f"{entry.name}_{configured.config_name}.zip"
    if exp.dataset.name == "got10k" and dataset.split == "test":
        return package_got10k(runs[:3], frames, out)
    if exp.dataset.name == "trackingnet":
        return package_trackingnet(runs[0], frames, out)
    raise SubmissionError(f"experiment '{exp.name}' ({dataset.results_name}) has no submission format; "
                          "packaging covers GOT-10k test and TrackingNet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a GOT-10k test or TrackingNet submission zip")
    parser.add_argument("experiment", help="experiment name or YAML path (e.g. got10k --set dataset.split=test)")
    parser.add_argument("--tracker", required=True)
    parser.add_argument("--config")
    parser.add_argument("--out", help="zip path (default: <results>/<benchmark>/submissions/)")
    parser.add_argument("--workspace")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    try:
        path = package_experiment(args.experiment, args.tracker, args.config, args.out, args.workspace, args.overrides)
    except SubmissionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
