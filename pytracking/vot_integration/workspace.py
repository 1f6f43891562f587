"""Write a vot-toolkit workspace that runs a registered tracker over TraX.

``python -m pytracking.vot_integration.workspace --stack vot2018 --tracker NAME [--config C]
[--checkpoint P] --sequences DIR --out WORKSPACE`` writes (metrics.md §6.5):

* ``trackers.ini``: ``[<id>]`` with ``label``, ``protocol = trax``, ``command = <python>
  <repo>/pytracking/run_vot.py <tracker> [config] [--checkpoint P] [--dataset STACK]`` and ``env_PYTHONPATH`` (the
  repository; no ``paths``: that key is for the toolkit's python/matlab adapters only);
* ``config.yaml``: ``stack`` (``vot2018`` -> ``vot2018/shortterm``, ``vot2020`` ->
  ``vot2020/shortterm``, or an absolute path to a stack YAML), ``registry: [./trackers.ini]``,
  ``sequences: sequences``;
* ``sequences``: a symlink to ``DIR`` (``--copy`` copies it), a VOT-layout folder with ``list.txt``
  (without it the toolkit would try to download the dataset).

Then: ``vot evaluate --workspace WORKSPACE <id>`` and ``vot analysis --workspace WORKSPACE <id>``.
Use vot-toolkit 0.7.4: 0.8.x/0.9.0 cannot run a single-object TraX tracker.
"""
from __future__ import annotations

import argparse
import re
import shlex
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ltr.admin.atomic import atomic_write_text

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_VOT = REPO_ROOT / "pytracking" / "run_vot.py"
STACKS = {"vot2018": "vot2018/shortterm", "vot2020": "vot2020/shortterm"}
VOT_TOOLKIT_VERSION = "0.7.4"


@dataclass
class TrackerCommand:
    """One tracker configuration as vot-toolkit starts it."""

    tracker: str
    config: str | None = None
    checkpoint: str | None = None
    overrides: list[str] = field(default_factory=list)
    python: str = sys.executable
    script: Path = RUN_VOT  # the TraX entry point (tests substitute one that registers extra trackers)
    dataset: str | None = None  # benchmark name the tracker is told (run_vot.py --dataset)

    @property
    def identifier(self) -> str:
        """The ``trackers.ini`` section name (letters, digits, ``_`` and ``-`` only)."""
        name = self.tracker if self.config is None else f"{self.tracker}_{Path(self.config).stem}"
        return re.sub(r"[^A-Za-z0-9_-]", "_", name)

    def command(self) -> str:
        args = [self.python, str(self.script), self.tracker]
        if self.config is not None:
            args.append(self.config)
        if self.checkpoint is not None:
            args += ["--checkpoint", str(Path(self.checkpoint).resolve())]
        for override in self.overrides:
            args += ["--set", override]
        if self.dataset is not None:
            args += ["--dataset", self.dataset]
        return shlex.join(args)


def stack_reference(stack: str) -> str:
    """``vot2018`` / ``vot2020`` -> the toolkit's short-term stack; a YAML path -> its absolute path."""
    if stack in STACKS:
        return STACKS[stack]
    path = Path(stack)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: stack file not found")
        return str(path.resolve())
    raise ValueError(f"--stack {stack!r}: expected one of {', '.join(STACKS)} or a stack YAML path")


def trackers_ini(trackers: Sequence[TrackerCommand]) -> str:
    """The registry text for ``trackers``."""
    sections = []
    for t in trackers:
        lines = [f"[{t.identifier}]", f"label = {t.identifier}", "protocol = trax", f"command = {t.command()}",
                 f"env_PYTHONPATH = {REPO_ROOT}"]
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def write_workspace(out: Path, stack: str, sequences: Path, trackers: Sequence[TrackerCommand],
                    copy: bool = False) -> Path:
    """Create (or update) the workspace ``out``; returns its folder."""
    sequences = Path(sequences).resolve()
    if not (sequences / "list.txt").is_file():
        raise FileNotFoundError(f"{sequences}: no list.txt (a VOT-layout sequences folder is needed; "
                                "without it vot-toolkit tries to download the dataset)")
    reference = stack_reference(stack)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "sequences"
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    if copy:
        shutil.copytree(sequences, target)
    else:
        target.symlink_to(sequences, target_is_directory=True)
    atomic_write_text(out / "trackers.ini", trackers_ini(trackers))
    atomic_write_text(out / "config.yaml", f"registry:\n- ./trackers.ini\nstack: {reference}\nsequences: sequences\n")
    (out / "results").mkdir(exist_ok=True)
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help=f"{' | '.join(STACKS)} | path to a stack YAML")
    parser.add_argument("--tracker", required=True, help="registered tracker name")
    parser.add_argument("--config", help="tracker config (experiments/<tracker>/<config>.yaml or a YAML path)")
    parser.add_argument("--checkpoint", help="network weights")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--sequences", required=True, type=Path, help="VOT-layout sequences folder (with list.txt)")
    parser.add_argument("--out", required=True, type=Path, help="workspace folder to write")
    parser.add_argument("--copy", action="store_true", help="copy the sequences instead of linking them")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the tracker command")
    parser.add_argument("--dataset", help="benchmark name the tracker is told (default: the stack's name, "
                                          "e.g. vot2020, which selects BIT's VOT2020 template interval)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from pytracking.tracker.base import TRACKERS

    TRACKERS.get(args.tracker)  # an unknown name fails here, not inside the toolkit
    dataset = args.dataset or (args.stack if args.stack in STACKS else None)
    tracker = TrackerCommand(args.tracker, args.config, args.checkpoint, args.overrides, args.python, dataset=dataset)
    out = write_workspace(args.out, args.stack, args.sequences, [tracker], args.copy)
    print(f"workspace {out} (tracker '{tracker.identifier}'); run with vot-toolkit {VOT_TOOLKIT_VERSION}:\n"
          f"  vot evaluate --workspace {out} {tracker.identifier}\n"
          f"  vot analysis --workspace {out} {tracker.identifier} --format json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
