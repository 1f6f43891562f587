"""Workspace lock: first-use generation waits for another writer (issue 14)."""
import threading

import pytest

from ltr.admin.lock import LockTimeout, workspace_lock
from pytracking.evaluation.datasets import synthetic


def test_generation_waits_for_the_lock(tmp_path, monkeypatch):
    calls = []
    import ltr.dataset.synthetic.benchmark as benchmark
    monkeypatch.setattr(benchmark, "materialise_split", lambda root, split, **kw: calls.append(split))
    done = threading.Event()
    with workspace_lock(tmp_path / ".test.lock"):
        worker = threading.Thread(target=lambda: (synthetic.materialise_at(tmp_path / "test", "test", {}), done.set()))
        worker.start()
        assert not done.wait(1.0), "generation ran while another process held the workspace lock"
        assert calls == []
    assert done.wait(10.0)
    worker.join()
    assert calls == ["test"]


def test_lock_timeout_names_the_file(tmp_path):
    with workspace_lock(tmp_path / "x.lock"):
        with pytest.raises(LockTimeout, match="x.lock"):
            with workspace_lock(tmp_path / "x.lock", "testing", timeout=0.3):
                pass
