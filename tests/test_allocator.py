"""The loader's malloc tuning applies on glibc (this project's Linux target) and is idempotent."""
from __future__ import annotations

import platform

import pytest

from ltr.data.allocator import keep_freed_buffers


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_thresholds_are_applied_on_glibc():
    assert keep_freed_buffers() is True
    assert keep_freed_buffers() is True
