"""``ltr-doctor``: list every known dataset key, its path, and whether the layout looks right."""
from __future__ import annotations

import argparse
import sys

from ltr.admin.paths import DATASET_KEYS, WORKSPACE_DATASETS, env_var, load_paths


def report(workspace: str | None = None) -> tuple[str, bool]:
    """The doctor table as text, and whether every configured path looks right."""
    paths = load_paths(workspace)
    healthy = True
    if paths.workspace.is_dir():
        workspace_status = ""
    elif paths.workspace.exists():
        workspace_status, healthy = "  NOT A FOLDER: nothing can be written there", False
    else:
        workspace_status = "  (not created yet: the first run creates it)"
    lines = [
        f"paths file : {paths.file or '(none; create paths.yaml or ~/.config/pytracking/paths.yaml)'}",
        f"workspace  : {paths.workspace}{workspace_status}",
        "",
        f"{'key':<12} {'status':<10} {'path':<40} source / how to set",
    ]
    for key, info in DATASET_KEYS.items():
        root = paths.datasets.get(key)
        if root is None and key in WORKSPACE_DATASETS:
            root = paths.dataset_root(key)
            source = "default (workspace)"
        else:
            source = paths.sources.get(key, f"set {env_var(key)} or datasets.{key} in the paths file")
        if root is None:
            status = "not set"
        elif not root.is_dir() and key in WORKSPACE_DATASETS and key not in paths.datasets:
            status = "not built"
        elif not root.is_dir():
            status, healthy = "MISSING", False
        elif info.looks_right(root):
            status = "ok"
        elif key in WORKSPACE_DATASETS:
            status = "not built"
        else:
            status, healthy = "BAD LAYOUT", False
            source += f" (expected {info.expect})"
        lines.append(f"{key:<12} {status:<10} {str(root or '-'):<40} {source}")
    return "\n".join(lines), healthy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", help="output root (default ./workspace)")
    args = parser.parse_args(argv)
    text, healthy = report(args.workspace)
    print(text)
    return 0 if healthy else 1


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
