"""Checkpoints: bounded foreign reads, errors that name the file (issue 14)."""
import tracemalloc
import zipfile

import pytest
import torch

from ltr.admin.checkpoint import CheckpointError, build_network_from_checkpoint, restricted_load, save_checkpoint
from ltr.models.tiny_net import TinyNet


def _foreign(path, tensor):
    torch.save({"net": {"w": tensor}}, path)
    return path


def _rewrite(path, out, change):
    """Copy the zip at ``path`` to ``out`` with ``change(name, data) -> (data, compress)`` per member."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data, compress = change(info.filename, src.read(info))
            dst.writestr(info.filename, data, zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)
    return out


def test_foreign_load_round_trip(tmp_path):
    tensor = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    obj = restricted_load(_foreign(tmp_path / "a.pth", tensor))
    assert torch.equal(obj["net"]["w"], tensor)


def test_member_larger_than_declared_is_refused_with_bounded_memory(tmp_path):
    """A small zip holding a huge compressed storage: refused before the storage is read."""
    src = _foreign(tmp_path / "a.pth", torch.zeros(4))
    bomb = _rewrite(src, tmp_path / "bomb.pth",
                    lambda name, data: (bytes(200 * 2**20), True) if "/data/" in name and not name.endswith(".pkl")
                    and not name.endswith("version") and name.rsplit("/", 1)[-1].isdigit() else (data, False))
    assert bomb.stat().st_size < 2 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match=r"bomb\.pth: archive member .* holds 209715200 bytes but the "
                                                  r"checkpoint declares 16"):
            restricted_load(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, peak


def test_unreferenced_members_are_never_read(tmp_path):
    src = _foreign(tmp_path / "a.pth", torch.ones(2))
    with zipfile.ZipFile(src) as z:
        prefix = next(n for n in z.namelist() if n.endswith("data.pkl"))[: -len("data.pkl")]
    padded = tmp_path / "padded.pth"
    _rewrite(src, padded, lambda name, data: (data, False))
    with zipfile.ZipFile(padded, "a") as z:
        z.writestr(prefix + "data/999", bytes(150 * 2**20), zipfile.ZIP_DEFLATED)
    tracemalloc.start()
    try:
        obj = restricted_load(padded)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert torch.equal(obj["net"]["w"], torch.ones(2))
    assert peak < 20 * 2**20, peak


def _tiny_checkpoint(path, **kwargs):
    net = TinyNet(**kwargs)
    return save_checkpoint(path, net, "tiny_net", {"channels": kwargs.get("channels", 8)})


def _drop_a_weight(payload: dict) -> None:
    payload["state_dict"].pop(next(iter(payload["state_dict"])))


def _widen_the_network(payload: dict) -> None:
    payload["network"]["kwargs"]["channels"] = 16


def _add_an_unknown_argument(payload: dict) -> None:
    payload["network"]["kwargs"]["no_such_option"] = 1


@pytest.mark.parametrize("corrupt, message", [
    (_drop_a_weight, r"ck\.pth: weights do not fit network 'tiny_net'.*Missing key"),
    (_widen_the_network, r"ck\.pth: weights do not fit.*size mismatch"),
    (_add_an_unknown_argument, r"ck\.pth: cannot rebuild network 'tiny_net'.*no_such_option"),
], ids=["missing_keys", "size_mismatch", "unknown_constructor_argument"])
def test_checkpoint_that_does_not_fit_its_network_names_the_file(tmp_path, corrupt, message):
    path = _tiny_checkpoint(tmp_path / "ck.pth")
    payload = torch.load(path, weights_only=True)
    corrupt(payload)
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match=message):
        build_network_from_checkpoint(path)


@pytest.mark.parametrize("content", [b"hello", None])
def test_truncated_or_foreign_file_names_the_file(tmp_path, content):
    from ltr.admin.checkpoint import load_checkpoint
    path = _tiny_checkpoint(tmp_path / "ck.pth")
    path.write_bytes(content if content is not None else path.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match=r"ck\.pth: not a readable torch checkpoint"):
        load_checkpoint(path)
