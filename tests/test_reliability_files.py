"""Files: umask permissions, write errors that name the file, early writability check (issue 14)."""
import errno
import os
import stat

import pytest

from ltr.admin.atomic import atomic_write_text, check_writable


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_atomic_files_get_the_umask_permissions(tmp_path, mask):
    old = os.umask(mask)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        plain = tmp_path / "b.txt"
        plain.write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~mask


def test_read_only_folder_is_named(tmp_path, monkeypatch):
    import tempfile

    def read_only(**kwargs):
        raise OSError(errno.EROFS, "Read-only file system")
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OSError, match=r"cannot write .*x\.txt: Read-only file system"):
        atomic_write_text(tmp_path / "x.txt", "x")


def test_disk_full_names_the_file(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match=r"cannot write .*x\.txt: No space left"):
        atomic_write_text(tmp_path / "x.txt", "x")
    assert list(tmp_path.iterdir()) == []


def test_check_writable_fails_early(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match="file/out.txt"):
        check_writable(blocker / "out.txt")
    check_writable(tmp_path / "sub" / "ok.txt")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == []
