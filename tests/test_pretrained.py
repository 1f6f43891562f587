"""Pretrained backbones: ``imagenet`` downloads once into $TORCH_HOME (from a local HTTP server here;
tests never reach the internet), local files load as before, and training refuses a frozen random
backbone unless the config says ``none``."""
from __future__ import annotations

import functools
import hashlib
import http.server
import logging
import socket
import threading
from pathlib import Path

import pytest
import torch
import torchvision

from ltr.admin.checkpoint import build_network_from_checkpoint, save_checkpoint
from ltr.config.loader import ConfigError
from ltr.config.train import load_training_experiment
from ltr.models.backbone import pretrained
from ltr.models.backbone.pretrained import PretrainedWeightsError
from ltr.models.backbone.resnet import ResNetBackbone
from ltr.models.backbone.vit import TIMM_NAMES, ViTBackbone


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


@pytest.fixture
def server(tmp_path):
    """A static HTTP server on 127.0.0.1 over ``<tmp>/www``; yields (root folder, base URL, request log)."""
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # quiet; record the path instead
            requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


def closed_port_url(name: str) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/models/{name}"


def torchvision_file(folder: Path, arch: str = "resnet18", seed: int = 3) -> tuple[Path, dict]:
    """A torchvision-format state_dict named like torchvision's releases (``<arch>-<sha256[:8]>.pth``)."""
    torch.manual_seed(seed)
    state = getattr(torchvision.models, arch)(weights=None).state_dict()
    tmp = folder / "tmp.pth"
    torch.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    path = folder / f"{arch}-{digest}.pth"
    tmp.rename(path)
    return path, state


def test_imagenet_url_is_torchvisions_v1_release():
    assert pretrained.resnet_imagenet_url("resnet50") == \
        torchvision.models.ResNet50_Weights.IMAGENET1K_V1.url
    assert pretrained.vit_imagenet_url("vit_base_patch16_224").startswith(
        "https://huggingface.co/timm/vit_base_patch16_224.")


def test_imagenet_downloads_once_into_torch_home_then_loads_from_the_cache(torch_home, server, monkeypatch):
    root, base, requests = server
    file, state = torchvision_file(root)
    monkeypatch.setattr("ltr.models.backbone.resnet.resnet_imagenet_url", lambda name: f"{base}/{file.name}")
    net = ResNetBackbone("resnet18", output_layers=("layer3",), weights="imagenet")
    cached = torch_home / "hub" / "checkpoints" / file.name
    assert cached.is_file()
    assert requests == [f"/{file.name}"]
    for key, value in net.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            assert torch.equal(value, state[key]), key
    ResNetBackbone("resnet18", output_layers=("layer3",), weights="imagenet")
    assert len(requests) == 1  # second build: from the cache


def test_a_download_with_the_wrong_hash_is_refused_and_leaves_nothing(torch_home, server, monkeypatch):
    root, base, _ = server
    file, _ = torchvision_file(root)
    wrong = root / "resnet18-00000000.pth"
    file.rename(wrong)
    monkeypatch.setattr("ltr.models.backbone.resnet.resnet_imagenet_url", lambda name: f"{base}/{wrong.name}")
    with pytest.raises(PretrainedWeightsError, match="resnet18-00000000.pth"):
        ResNetBackbone("resnet18", weights="imagenet")
    assert not list((torch_home / "hub" / "checkpoints").glob("*"))


def test_offline_error_names_the_url_and_the_local_file_alternative(torch_home, monkeypatch):
    url = closed_port_url("resnet18-f37072fd.pth")
    monkeypatch.setattr("ltr.models.backbone.resnet.resnet_imagenet_url", lambda name: url)
    with pytest.raises(PretrainedWeightsError) as err:
        ResNetBackbone("resnet18", weights="imagenet")
    message = str(err.value)
    assert url in message
    assert "model.backbone_weights=" in message and str(torch_home) in message and "'none'" in message


def test_vit_imagenet_comes_from_the_hub_layout_as_safetensors(torch_home, server, monkeypatch):
    from safetensors.torch import save_file
    from timm.models import get_pretrained_cfg

    root, base, requests = server
    monkeypatch.setenv("HF_ENDPOINT", base)
    torch.manual_seed(4)
    reference = ViTBackbone("vit_tiny", depth=2, weights="none").state_dict()
    hub_id = get_pretrained_cfg(TIMM_NAMES["vit_tiny"]).hf_hub_id
    folder = root / hub_id / "resolve" / "main"
    folder.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in reference.items()}, str(folder / "model.safetensors"))
    net = ViTBackbone("vit_tiny", depth=2, weights="imagenet")
    assert requests == [f"/{hub_id}/resolve/main/model.safetensors"]
    for key, value in net.state_dict().items():
        assert torch.equal(value, reference[key]), key


def test_local_state_dict_path_still_loads_and_reports_its_keys(tmp_path, caplog):
    file, state = torchvision_file(tmp_path)
    net = ResNetBackbone("resnet18", output_layers=("layer3",))
    keys = net.load_local_weights(file)
    assert "conv1.weight" in keys and "layer3.1.bn2.running_var" in keys
    assert not any(k.startswith(("layer4.", "fc.")) for k in keys)  # cut layers are skipped
    caplog.set_level(logging.INFO, logger="ltr.models.backbone.pretrained")  # load_matching reports
    ResNetBackbone("resnet18", output_layers=("layer3",), weights=str(file))
    assert f"from {file}" in caplog.text


def test_incomplete_or_reshaped_resnet_weights_are_errors_naming_the_file(tmp_path):
    file, state = torchvision_file(tmp_path)
    net = ResNetBackbone("resnet18", output_layers=("layer3",))
    partial = tmp_path / "partial.pth"
    torch.save({k: v for k, v in state.items() if not k.startswith("layer2.")}, partial)
    with pytest.raises(ValueError, match=r"partial\.pth: resnet18 weights lack .* keys"):
        net.load_local_weights(partial)
    reshaped = tmp_path / "reshaped.pth"
    torch.save({**state, "layer3.0.conv1.weight": torch.zeros(3, 3, 3, 3)}, reshaped)
    with pytest.raises(ValueError, match=r"reshaped\.pth: resnet18 weights have other shapes for \['layer3.0.conv1"):
        net.load_local_weights(reshaped)


def test_none_is_silent_unset_warns(caplog):
    caplog.set_level(logging.WARNING)
    ResNetBackbone("resnet18", weights="none")
    assert "random init" not in caplog.text
    ResNetBackbone("resnet18")
    assert "model.backbone_weights not set" in caplog.text


def test_shipped_configs_state_their_backbone_init():
    expected = {("bit", "default"): "imagenet", ("bit", "r50"): "imagenet", ("bit", "vit_b"): "imagenet",
                ("bit", "got10k_only"): "imagenet", ("bit", "tiny"): "imagenet",  # the packaged EfficientNet's
                ("jcat", "default"): "imagenet", ("jcat", "default_vot"): "imagenet",
                ("jcat", "tiny"): "imagenet", ("jcat", "tiny_vot"): "imagenet"}
    for (tracker, name), weights in expected.items():
        model = load_training_experiment(tracker, name).model
        assert model.backbone_weights == weights, (tracker, name)
        assert model.pretrained_problem() is None
    assert load_training_experiment("bit", "vit_b").model.vit_weights == "imagenet"


def test_training_refuses_a_frozen_random_backbone_unless_none_is_said(tmp_path):
    from ltr.run_training import run

    with pytest.raises(ConfigError) as err:
        run("bit", "default", ["model.backbone_weights=null"], workspace=str(tmp_path / "ws"))
    message = str(err.value)
    assert "default.yaml" in message and "model.backbone_weights is not set" in message
    assert "imagenet" in message and "'none'" in message
    for tracker in ("bit", "jcat"):
        model = load_training_experiment(tracker, "default", ["model.backbone_weights=null"]).model
        assert model.pretrained_problem()
    free = load_training_experiment("bit", "default", ["model.backbone_weights=null", "model.backbone_frozen_bn=false",
                                                       "model.backbone_frozen_layers=[]"]).model
    assert free.pretrained_problem() is None  # nothing frozen: random init trains


def test_checkpoint_rebuild_neither_downloads_nor_warns(tmp_path, torch_home, monkeypatch, caplog):
    from ltr.models.registry import NETWORKS

    kwargs = {"backbone": "resnet18", "backbone_weights": "none", "topk": 3, "dropout": 0.1}
    net = NETWORKS.build("jcat", **kwargs)
    path = tmp_path / "ckpt.pth"
    save_checkpoint(path, net, "jcat", {**kwargs, "backbone_weights": "imagenet"})

    def no_download(url):
        raise AssertionError(f"downloaded {url}")

    monkeypatch.setattr(pretrained, "download", no_download)
    caplog.set_level(logging.WARNING)
    rebuilt = build_network_from_checkpoint(path)
    assert "random init" not in caplog.text
    for key, value in net.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[key], value)


def test_stage2_from_stage1_neither_warns_random_init_nor_mentions_resume(tmp_path, capsys):
    """Stage 2 loads stage 1: no "random init" warning (even with the weights key unset), and
    "--resume" is not logged when --resume was not passed."""
    from ltr import run_training
    from ltr.models.registry import NETWORKS
    from ltr.trainers.checkpoints import CheckpointFolder

    small = ["model.d_model=32", "model.nheads=2", "model.dim_feedforward=64", "model.head_channels=32",
             "model.template_size=32", "model.search_size=64", "data.processing.template.output_size=32",
             "data.processing.search.output_size=64", "data.samples_per_epoch=2", "data.batch_size=2",
             "data.num_workers=0", "data.val=[]", "train.epochs=1", "model.backbone_weights=null"]
    stage1 = load_training_experiment("bit", "tiny", small, stage=1)
    net = NETWORKS.build("bit", **{**stage1.network_kwargs(), "backbone_weights": "none"})
    folder = CheckpointFolder(tmp_path / "ws" / "checkpoints" / "bit" / "tiny" / "stage1")
    folder.folder.mkdir(parents=True)
    save_checkpoint(folder.path(20), net, "bit", stage1.network_kwargs())
    capsys.readouterr()
    run_training.run("bit", "tiny", small, workspace=str(tmp_path / "ws"), stage=2, device="cpu")
    log = capsys.readouterr().err  # run_training logs through its own stderr handler
    assert "initialised weights from" in log
    assert "random init" not in log and "--resume" not in log
