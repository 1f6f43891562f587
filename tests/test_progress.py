"""Progress without a terminal: log lines with counts and ETA, a heartbeat, tqdm only on a TTY."""
from __future__ import annotations

import logging
import time

import pytest

from pytracking.evaluation import progress as progress_mod
from pytracking.evaluation.progress import Progress


def messages(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "pytracking.progress"]


def test_without_a_terminal_each_finished_job_logs_counts_and_an_eta(caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="pytracking.progress")
    clock = iter(range(0, 1000, 10))  # every call to monotonic() advances 10 s
    monkeypatch.setattr(progress_mod.time, "monotonic", lambda: float(next(clock)))
    with Progress(4, "got10k", min_interval=5, heartbeat=3600, bar=False) as p:
        p.update()
        p.update(failed=True)
        p.update()
        p.update()
    lines = messages(caplog)
    assert lines[0] == "got10k: 4 jobs to run"
    assert lines[1].startswith("got10k: 1/4 jobs done, ") and "ETA" in lines[1]
    assert "2/4 jobs done (1 failed)" in lines[2]
    assert lines[-1].startswith("got10k: 4/4 jobs done (1 failed)") and "ETA" not in lines[-1]


def test_eta_is_the_mean_job_time_times_the_jobs_left(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(progress_mod.time, "monotonic", lambda: now[0])
    p = Progress(10, "lasot", bar=False)
    now[0] = 120.0
    p.done = 2
    assert p.line() == "lasot: 2/10 jobs done, 2m00s elapsed, ETA 8m00s"


def test_a_heartbeat_logs_while_no_job_finishes(caplog):
    caplog.set_level(logging.INFO, logger="pytracking.progress")
    with Progress(3, "otb", heartbeat=0.05, bar=False):
        time.sleep(0.3)
    assert any(m.startswith("otb: 0/3 jobs done") and m.endswith("(still running)") for m in messages(caplog))


@pytest.mark.parametrize("tty", [True, False])
def test_tqdm_only_when_a_terminal_is_attached(monkeypatch, caplog, tty):
    caplog.set_level(logging.INFO, logger="pytracking.progress")
    monkeypatch.setattr(progress_mod.sys.stderr, "isatty", lambda: tty, raising=False)
    monkeypatch.delenv("CI", raising=False)
    with Progress(2, "vot", heartbeat=3600) as p:
        assert (p._bar is not None) == tty
        p.update()
        p.update()
    assert bool(messages(caplog)) != tty
