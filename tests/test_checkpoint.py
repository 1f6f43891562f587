"""Checkpoints: exact round trip, rebuild from metadata, and refusal of code-carrying pickles."""
import collections
import os
import random

import numpy as np
import pytest
import torch
from torch import nn

from ltr.admin.checkpoint import (
    CheckpointError,
    build_network_from_checkpoint,
    foreign_state_dict,
    load_checkpoint,
    restricted_load,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from ltr.models.registry import NETWORKS


class _SmallNet(nn.Module):
    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.bn = nn.BatchNorm2d(width)
        self.fc = nn.Linear(width, 2)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean(dim=(2, 3)))


if "test_small_net" not in NETWORKS:
    NETWORKS.register("test_small_net")(_SmallNet)


class _PickledSettings:
    """Stands for a training-settings object that foreign checkpoints pickle."""

    def __init__(self):
        self.lr = 1e-4


class _Payload:
    """A crafted object whose unpickling would run a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _trained_state():
    torch.manual_seed(0)
    net = _SmallNet(width=6)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(2):
        loss = net(torch.randn(2, 3, 8, 8)).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return net, opt, sched


def test_round_trip_is_exact(tmp_path):
    net, opt, sched = _trained_state()
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    path = save_checkpoint(tmp_path / "ck.pth", net, "test_small_net", {"width": 6}, config={"train": {"lr": 1e-3}},
                           epoch=3, optimizer=opt, scheduler=sched, scaler=scaler)
    payload = load_checkpoint(path)
    assert payload["epoch"] == 3 and payload["config"] == {"train": {"lr": 1e-3}}
    for key, value in net.state_dict().items():
        assert torch.equal(payload["state_dict"][key], value), key
    opt2 = torch.optim.AdamW(_SmallNet(width=6).parameters(), lr=1e-3)
    opt2.load_state_dict(payload["optimizer"])
    for group_a, group_b in zip(opt.state_dict()["state"].values(), opt2.state_dict()["state"].values()):
        for k in group_a:
            assert torch.equal(torch.as_tensor(group_a[k]), torch.as_tensor(group_b[k]))
    assert payload["scheduler"] == sched.state_dict()
    rebuilt = build_network_from_checkpoint(path)
    rebuilt.eval(), net.eval()
    x = torch.randn(1, 3, 8, 8)
    assert torch.equal(rebuilt(x), net(x))
    assert not list(tmp_path.glob(".*.tmp")), "temp file left behind"


def test_rng_state_restores_all_generators():
    state = rng_state()
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_malicious_pickle_is_refused_and_payload_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"network": {"name": "x", "kwargs": {}}, "state_dict": {}, "evil": _Payload(str(marker))}, path)
    with pytest.raises(CheckpointError, match="refused to load"):
        load_checkpoint(path)
    assert not marker.exists()
    obj = restricted_load(path)  # the restricted reader turns the payload into an inert stub
    assert not marker.exists()
    assert "stub" in repr(obj["evil"])


def test_foreign_checkpoint_tensors_are_read_without_code(tmp_path):
    marker = tmp_path / "pwned"
    state = collections.OrderedDict(w=torch.randn(3, 4), idx=torch.arange(5), half=torch.randn(2).half())
    path = tmp_path / "stark_like.pth.tar"
    torch.save({"net": state, "settings": _PickledSettings(), "evil": _Payload(str(marker)), "epoch": 50}, path)
    loaded = foreign_state_dict(path, "net")
    assert set(loaded) == set(state)
    for key in state:
        assert loaded[key].dtype == state[key].dtype and torch.equal(loaded[key], state[key])
    assert not marker.exists()


def test_unreadable_files_get_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pth"):
        load_checkpoint(junk)
    plain = tmp_path / "plain.pth"
    torch.save({"a": torch.zeros(1)}, plain)
    with pytest.raises(CheckpointError, match="not a project checkpoint"):
        load_checkpoint(plain)
