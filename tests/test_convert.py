"""``ltr-convert-checkpoint``: released-format files become safe checkpoints; pickled code never runs."""
import os
import pickle
from pathlib import Path

import pytest
import torch

from ltr.admin.checkpoint import CheckpointError, build_network_from_checkpoint, load_checkpoint
from ltr.admin.convert import FORMATS, convert_checkpoint, main
from ltr.models.jcat import JcatModelConfig, JcatNet

RELEASE_KEYS = Path(__file__).resolve().parents[1] / "ltr" / "models" / "jcat" / "release_keys.txt"


class _NetConstructor:
    """Stands for pytracking's pickled ``NetConstructor`` (defined only in this test module)."""

    def __init__(self):
        self.fun_name, self.fun_module = "Jcat_resnet50", "ltr.models.Jcat.Jcat"
        self.args, self.kwargs = (), {"backbone_pretrained": True}


class _Settings:
    """Stands for pytracking's pickled training settings."""

    def __init__(self):
        self.batch_size, self.lr = 32, 1e-3


class _Payload:
    """A crafted object whose unpickling runs a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _release_state_dict():
    """Random tensors with the release's names and shapes (num_batches_tracked as int64 scalars)."""
    g = torch.Generator().manual_seed(0)
    state = {}
    for line in RELEASE_KEYS.read_text().splitlines():
        name, shape = line.split(" ", 1)
        shape = tuple(int(d) for d in shape.strip("()").split(",") if d.strip())
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(4321, dtype=torch.int64)
        elif name.endswith("running_var"):
            state[name] = 0.5 + torch.rand(shape, generator=g)
        else:
            state[name] = 0.05 * torch.randn(shape, generator=g)
    return state


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A benign and a malicious release-format file holding the same weights, and a net loaded directly."""
    root = tmp_path_factory.mktemp("release")
    state = _release_state_dict()
    benign = root / "JcatNet.pth.tar"
    torch.save({"net": state, "constructor": _NetConstructor(), "settings": _Settings(), "epoch": 80}, benign)
    marker = root / "pwned"
    settings = _Settings()
    settings.hook = _Payload(str(marker))
    evil = root / "JcatNet_evil.pth.tar"
    torch.save({"net": state, "constructor": _Payload(str(marker)), "settings": settings, "epoch": 80}, evil)
    direct = JcatNet(JcatModelConfig())
    direct.load_state_dict(state, strict=True)
    return {"state": state, "benign": benign, "evil": evil, "marker": marker, "net": direct.eval()}


def _outputs(net):
    g = torch.Generator().manual_seed(1)
    train, test = torch.randn(1, 3, 128, 128, generator=g), torch.randn(1, 3, 128, 128, generator=g)
    mask = torch.zeros(1, 1, 128, 128)
    mask[..., 40:90, 30:100] = 1
    with torch.no_grad():
        return net.eval()(train, test, mask, torch.rand(1, 1, 128, 128, generator=g))


@pytest.mark.parametrize("which", ["benign", "evil"])
def test_release_file_converts_to_an_equivalent_weights_only_checkpoint(release, tmp_path, which, capsys):
    target = tmp_path / "jcat.pth"
    assert main(["jcat", str(release[which]), str(target)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert not release["marker"].exists(), "the pickled payload ran"
    payload = load_checkpoint(target)  # weights_only=True
    assert payload["network"] == {"name": "jcat", "kwargs": FORMATS["jcat"].kwargs}
    assert payload["extra"]["converted_from"]["file"] == release[which].name
    assert set(payload["state_dict"]) == set(release["state"])
    assert all(torch.equal(payload["state_dict"][k], v) for k, v in release["state"].items())
    rebuilt = build_network_from_checkpoint(target)
    assert isinstance(rebuilt, JcatNet)
    assert torch.equal(_outputs(rebuilt), _outputs(release["net"]))
    assert not release["marker"].exists(), "the pickled payload ran"


def test_crafted_payload_is_live(tmp_path):
    """Guard for the test above: the payload class really runs its command when unpickled normally."""
    marker = tmp_path / "live"
    pickle.loads(pickle.dumps(_Payload(str(marker))))
    assert marker.exists()


def test_mismatched_file_is_reported_with_file_and_problem(tmp_path, capsys):
    source = tmp_path / "other.pth.tar"
    torch.save({"net": {"segm_predictor.mixer0.0.weight": torch.zeros(32, 2, 3, 3), "head.w": torch.zeros(1)},
                "settings": _Settings()}, source)
    with pytest.raises(CheckpointError, match=r"other\.pth\.tar: does not match the network: 521 missing") as err:
        convert_checkpoint("jcat", source, tmp_path / "out.pth")
    assert "1 unexpected (e.g. head.w)" in str(err.value)
    assert "1 wrong shape (e.g. segm_predictor.mixer0.0.weight (32, 2, 3, 3) != (32, 3, 3, 3))" in str(err.value)
    assert main(["jcat", str(source), str(tmp_path / "out.pth")]) == 2
    assert "other.pth.tar" in capsys.readouterr().err
    assert not (tmp_path / "out.pth").exists()


def test_cli_errors_missing_input_existing_output_unknown_kind(tmp_path, capsys):
    assert main(["jcat", str(tmp_path / "absent.pth.tar"), str(tmp_path / "out.pth")]) == 2
    assert "absent.pth.tar: file not found" in capsys.readouterr().err
    existing = tmp_path / "exists.pth"
    existing.write_bytes(b"keep me")
    assert main(["jcat", str(tmp_path / "absent.pth.tar"), str(existing)]) == 2
    assert "--overwrite" in capsys.readouterr().err and existing.read_bytes() == b"keep me"
    with pytest.raises(SystemExit) as exit_info:
        main(["stark_unknown", "a", "b"])
    assert exit_info.value.code == 2
    with pytest.raises(ValueError, match="known kinds: jcat"):
        convert_checkpoint("nope", tmp_path / "a", tmp_path / "b")


def _stark_state(key_file: Path) -> dict:
    """Random tensors in the shapes a STARK-ST key file lists (spec files, as in test_bit_model)."""
    import re

    torch.manual_seed(5)
    state = {}
    for line in key_file.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, shape = line.split(" ", 1)
            dims = tuple(int(d) for d in re.findall(r"\d+", shape))
            state[name] = torch.randint(0, 5, dims) if name.endswith("num_batches_tracked") else torch.randn(dims)
    return state


def test_stark_cli_converts_st50_into_bit_initial_weights(tmp_path, capsys):
    from ltr.admin.convert import stark_config

    specs = Path("/work/shared/specs")
    state = _stark_state(specs / "stark_st50_keys.txt")
    assert stark_config(state) == "r50"
    assert stark_config(_stark_state(specs / "stark_st101_keys.txt")) == "default"
    source = tmp_path / "STARKST_ep0050.pth.tar"
    torch.save({"net": state, "epoch": 50, "net_type": "STARKST"}, source)
    target = tmp_path / "bit_stark50.pth"
    assert main(["stark", str(source), str(target)]) == 0
    out = capsys.readouterr().out
    assert "STARK init:" in out and "train.init_from=" in out
    net = build_network_from_checkpoint(target)
    payload = load_checkpoint(target)
    assert payload["network"]["kwargs"]["backbone"] == "resnet50"
    assert payload["network"]["kwargs"]["backbone_weights"] == "none"
    assert payload["extra"]["converted_from"]["kind"] == "stark" and payload["extra"]["converted_from"]["config"] == "r50"
    own = net.state_dict()
    for key in ("backbone.0.body.layer3.5.conv3.weight", "bottleneck.weight", "box_head.conv5_br.weight"):
        assert torch.equal(own[key], state[key]), key
    assert main(["stark", str(source), str(target)]) == 2  # exists: refused without --overwrite
    assert "already exists" in capsys.readouterr().err


def test_stark_cli_refuses_a_file_that_is_not_stark(tmp_path, capsys):
    source = tmp_path / "other.pth.tar"
    torch.save({"net": {"foo.weight": torch.zeros(2)}}, source)
    assert main(["stark", str(source), str(tmp_path / "out.pth")]) == 2
    assert "no STARK-ST tensors" in capsys.readouterr().err
    assert not (tmp_path / "out.pth").exists()
