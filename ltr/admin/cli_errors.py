"""One top-level error handler for every command-line entry point.

A bad input (a missing file, a malformed config, a checkpoint that does not fit, a read-only or
full disk) should end a command with one line naming the file, the problem and what to do, not
a traceback. :func:`run_cli` calls a CLI's ``main(argv)`` and turns

* any ``OSError`` (with a hint by errno: permissions, disk full, missing file), and
* any exception raised by this project's own code (a class defined in ``ltr``/``pytracking``,
  or a ``ValueError``/``KeyError``/``TypeError``/``RuntimeError`` raised from a line of the project)

into ``error: <message>`` on stderr and exit status 2. ``--debug`` (anywhere on the command line,
removed before ``main`` sees it) or ``PYTRACKING_DEBUG=1`` re-raises with the full traceback.
Anything else is a bug and keeps its traceback. Each CLI exposes ``cli()`` =
``run_cli(main)``; ``main`` itself keeps raising, for tests and library callers.
"""
from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

_PROJECT_DIRS = tuple(str(Path(__file__).resolve().parents[2] / name) + os.sep for name in ("ltr", "pytracking"))
_PROJECT_MODULES = ("ltr", "pytracking")
_RAISED_BY_PROJECT = (ValueError, KeyError, TypeError, RuntimeError, IndexError)
_HINTS = {
    errno.ENOSPC: "free disk space or choose another --workspace",
    errno.EDQUOT: "free disk space or choose another --workspace",
    errno.EACCES: "check the permissions, or choose another --workspace / output path",
    errno.EPERM: "check the permissions, or choose another --workspace / output path",
    errno.EROFS: "the file system is read-only; choose another --workspace / output path",
    errno.ENOENT: "check the path (see `ltr-doctor` for dataset paths)",
}


def is_user_error(err: BaseException) -> bool:
    """Whether ``err`` reports a bad input or environment (print one line) rather than a bug."""
    if isinstance(err, OSError):
        return True
    module = type(err).__module__.split(".")[0]
    if module in _PROJECT_MODULES:
        return True
    if isinstance(err, _RAISED_BY_PROJECT):
        tb = err.__traceback__
        last = None
        while tb is not None:
            last = tb.tb_frame.f_code.co_filename
            tb = tb.tb_next
        return last is not None and last.startswith(_PROJECT_DIRS)
    return False


def one_line(err: BaseException) -> str:
    """The message of ``err`` for the terminal, with a hint for OS errors."""
    if isinstance(err, KeyError) and err.args:
        message = str(err.args[0])
    else:
        message = str(err) or type(err).__name__
    if isinstance(err, OSError):
        if err.filename is not None and str(err.filename) not in message:
            message = f"{err.filename}: {message}"
        hint = _HINTS.get(err.errno or -1)
        if hint and hint not in message:
            message = f"{message} ({hint})"
    return message


def run_cli(main: Callable[[list[str]], int | None], argv: Sequence[str] | None = None) -> int:
    """Call ``main(argv)`` (default ``sys.argv[1:]``) and return its exit status, or 2 after printing
    one line for a user error (see the module docstring); 130 on Ctrl-C."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("PYTRACKING_DEBUG", "") not in ("", "0")
    args = [a for a in args if a != "--debug"]
    try:
        return int(main(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - sorted into user errors and bugs below
        if debug or not is_user_error(err):
            raise
        print(f"error: {one_line(err)}", file=sys.stderr)
        print("(run again with --debug for the full traceback)", file=sys.stderr)
        return 2
