"""vot-toolkit 0.7.4 in its own virtual environment: ``python -m pytracking.vot_integration.toolkit``.

0.7.4 is the version that runs a single-object TraX tracker (0.8.x/0.9.0 fail, metrics.md §6.5).
It depends on ``opencv-python`` (which would clash with this project's
``opencv-python-headless``), ``numba`` and ``attributee`` (0.1.9 on Python 3.11), so it lives in a
separate venv under ``<workspace>/cache/vot-toolkit-0.7.4``, created once; the tracker itself
runs in this project's interpreter, started by the toolkit through ``trackers.ini``.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ltr.admin.paths import load_paths

PACKAGES = ("vot-toolkit==0.7.4", "attributee==0.1.9", "vot-trax==4.0.2")


def toolkit_dir() -> Path:
    return load_paths().cache / "vot-toolkit-0.7.4"


def vot_executable(folder: Path | None = None) -> Path:
    return (folder or toolkit_dir()) / "bin" / "vot"


def ensure_toolkit(folder: Path | None = None) -> Path:
    """The ``vot`` command of the toolkit venv, creating the venv (pip install from the registry) if needed."""
    folder = folder or toolkit_dir()
    vot = vot_executable(folder)
    if vot.is_file():
        return vot
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", *PACKAGES], check=True)
    if not vot.is_file():
        raise RuntimeError(f"{folder}: pip installed {', '.join(PACKAGES)} but there is no bin/vot")
    return vot


def main(argv: list[str] | None = None) -> int:
    """CLI: create the toolkit venv when absent and print its ``vot`` command (``--help``: what it does)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m pytracking.vot_integration.toolkit",
        description=f"Create (once) a separate venv with {', '.join(PACKAGES)} and print the path of its "
                    "`vot` command. Needs the PyPI registry on first use; later runs only print the path.")
    parser.add_argument("--folder", type=Path, help="venv folder (default: <workspace>/cache/vot-toolkit-0.7.4)")
    args = parser.parse_args(argv)
    try:
        print(ensure_toolkit(args.folder))
    except (OSError, RuntimeError, subprocess.CalledProcessError) as err:
        print(f"error: could not create the vot-toolkit venv: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
