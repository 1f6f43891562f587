"""Trainer: exact resume after SIGKILL, stages, per-module lr, schedulers, AMP, run_training CLI."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

import training_fakes
from ltr.admin.checkpoint import load_checkpoint
from ltr.admin.paths import MissingPathError, load_paths
from ltr.config.loader import ConfigError
from ltr.config.train import DatasetEntry, TrainConfig, load_training_experiment
from ltr.dataset.base import TRAIN_DATASETS
from ltr.models.tiny_net import TinyNet
from ltr.run_training import build_dataset, run
from ltr.trainers.checkpoints import CheckpointFolder
from ltr.trainers.optim import apply_trainable_filter, build_optimizer, build_scheduler
from ltr.trainers.trainer import ResumeError

ROOT = Path(__file__).resolve().parents[1]
FAKE_DATA = "data.train=[{name: rectangles, kwargs: {num_sequences: 6}}]"
DRIVER = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import training_fakes
training_fakes.register()
from ltr.run_training import main
sys.exit(main(sys.argv[1:]))
"""
training_fakes.register()


def _assert_same_checkpoint(a: Path, b: Path) -> None:
    ca, cb = load_checkpoint(a), load_checkpoint(b)
    assert ca["epoch"] == cb["epoch"]
    for key, value in ca["state_dict"].items():
        assert torch.equal(value, cb["state_dict"][key]), key
    for sa, sb in zip(ca["optimizer"]["state"].values(), cb["optimizer"]["state"].values()):
        for key in sa:
            assert torch.equal(torch.as_tensor(sa[key]), torch.as_tensor(sb[key])), key
    assert ca["scheduler"] == cb["scheduler"]


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path: Path) -> None:
    overrides = [FAKE_DATA, "train.epochs=5", "data.samples_per_epoch=48", "train.keep_last=10"]
    full = tmp_path / "full"
    run("tiny_net", "smoke", overrides, workspace=str(full))  # uninterrupted

    broken = tmp_path / "broken"
    folder = broken / "checkpoints" / "tiny_net" / "smoke"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    command = [sys.executable, str(driver), "tiny_net", "smoke", "--workspace", str(broken)]
    proc = subprocess.Popen(command + [arg for item in overrides for arg in ("--set", item)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (folder / "ep0002.pth").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "training ended before epoch 2"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL and not (folder / "ep0005.pth").exists()
    run("tiny_net", "smoke", overrides, resume=True, workspace=str(broken))
    _assert_same_checkpoint(full / "checkpoints/tiny_net/smoke/ep0005.pth", folder / "ep0005.pth")
    saved = yaml.safe_load((folder / "config.yaml").read_text())
    assert saved["train"]["epochs"] == 5 and saved["data"]["train"][0]["name"] == "rectangles"


def test_stages_train_only_the_filtered_parameters_from_the_previous_stage(tmp_path: Path, monkeypatch) -> None:
    experiments = tmp_path / "experiments" / "tiny_net"
    experiments.mkdir(parents=True)
    smoke = yaml.safe_load((ROOT / "experiments/tiny_net/smoke.yaml").read_text())
    smoke["data"]["train"] = [{"name": "rectangles"}]
    smoke["train"].update(epochs=2, val_every=1, deterministic=False)
    smoke["data"]["val"] = [{"name": "rectangles", "kwargs": {"num_sequences": 2}}]
    smoke["stages"] = [
        {"name": "boxes"},
        {"name": "score", "set": {"train": {"epochs": 1, "trainable": ["cls_head"], "lr": 0.01},
                                  "data": {"sampler": {"negative_prob": 0.5}}}},
    ]
    (experiments / "staged.yaml").write_text(yaml.safe_dump(smoke))
    monkeypatch.setenv("PYTRACKING_EXPERIMENTS", str(tmp_path / "experiments"))
    assert load_training_experiment("tiny_net", "staged", ["train.epochs=9"], stage=2).train.epochs == 9
    with pytest.raises(ConfigError, match="stage 3 does not exist"):
        load_training_experiment("tiny_net", "staged", stage=3)

    folders = run("tiny_net", "staged", workspace=str(tmp_path / "ws"))
    assert [f.name for f in folders] == ["stage1", "stage2"]
    first = load_checkpoint(folders[0] / "ep0002.pth")["state_dict"]
    second = load_checkpoint(folders[1] / "ep0001.pth")["state_dict"]
    for key, value in first.items():
        assert torch.equal(value, second[key]) != key.startswith("cls_head"), key
    events = list((tmp_path / "ws/tensorboard/tiny_net/staged/stage1").glob("events.*"))
    assert events and events[0].stat().st_size > 0


def test_param_groups_trainable_filter_and_schedulers() -> None:
    net = TinyNet()
    config = TrainConfig(epochs=10, lr=1.0, lr_multipliers={"backbone": 0.1, "backbone.2": 0.5},
                         scheduler="step", step_fraction=0.5, gamma=0.1)
    optimizer = build_optimizer(net, config)
    lrs = {g["name"]: g["lr"] for g in optimizer.param_groups}
    assert lrs == {"backbone": 0.1, "backbone.2": 0.5, "default": 1.0}
    scheduler = build_scheduler(optimizer, config)
    seen = []
    for _ in range(10):
        seen.append(next(g["lr"] for g in optimizer.param_groups if g["name"] == "default"))
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([1.0] * 5 + [0.1] * 5)

    cosine = build_scheduler(build_optimizer(net, TrainConfig(epochs=4, lr=1.0)),
                             TrainConfig(epochs=4, scheduler="cosine", min_lr=0.0))
    multi = build_scheduler(build_optimizer(net, TrainConfig(lr=1.0)),
                            TrainConfig(scheduler="multistep", milestones=[1, 3], gamma=0.5))
    cos_lrs, multi_lrs = [], []
    for _ in range(4):
        cos_lrs.append(cosine.get_last_lr()[0])
        multi_lrs.append(multi.get_last_lr()[0])
        cosine.optimizer.step(), multi.optimizer.step(), cosine.step(), multi.step()
    assert cos_lrs == pytest.approx([1.0, 0.853553, 0.5, 0.146447], abs=1e-5)
    assert multi_lrs == pytest.approx([1.0, 0.5, 0.5, 0.25])

    names = apply_trainable_filter(net, ["cls_head"])
    assert names == ["cls_head.weight", "cls_head.bias"]
    with pytest.raises(ValueError, match="no trainable parameters"):
        apply_trainable_filter(TinyNet(), ["nothing_matches"])


def test_checkpoint_pruning_keeps_last_and_milestones(tmp_path: Path) -> None:
    folder = CheckpointFolder(tmp_path)
    for epoch in range(1, 11):
        folder.path(epoch).write_bytes(b"x")
    folder.prune(TrainConfig(epochs=12, keep_last=2, keep_every=4, keep_epochs=[3]))
    assert folder.epochs() == [3, 4, 8, 9, 10]


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_amp_training_runs_and_checkpoints(tmp_path: Path, amp: str) -> None:
    folders = run("tiny_net", "smoke", [FAKE_DATA, f"train.amp={amp}", "train.epochs=1",
                                         "train.deterministic=false"], workspace=str(tmp_path))
    payload = load_checkpoint(folders[0] / "ep0001.pth")
    assert ("scale" in payload["scaler"]) == (amp == "fp16")  # bf16 needs no loss scaling
    assert all(torch.isfinite(v).all() for v in payload["state_dict"].values())


def test_resume_error_when_checkpoints_exist(tmp_path: Path) -> None:
    overrides = [FAKE_DATA, "train.epochs=1", "train.deterministic=false"]
    run("tiny_net", "smoke", overrides, workspace=str(tmp_path))
    with pytest.raises(ResumeError, match="--resume"):
        run("tiny_net", "smoke", overrides, workspace=str(tmp_path))
    run("tiny_net", "smoke", overrides, resume=True, workspace=str(tmp_path))  # already done: no-op


class _NeedsRoot(training_fakes.RectangleDataset):
    paths_key = "lasot"

    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = root


def test_missing_dataset_path_names_dataset_and_env_var(tmp_path: Path, monkeypatch) -> None:
    if "needs_root" not in TRAIN_DATASETS:
        TRAIN_DATASETS.register("needs_root")(_NeedsRoot)
    monkeypatch.delenv("PYTRACKING_LASOT_ROOT", raising=False)
    monkeypatch.setenv("PYTRACKING_PATHS", str(tmp_path / "no-such-paths.yaml"))
    with pytest.raises(MissingPathError, match="training dataset 'needs_root'.*PYTRACKING_LASOT_ROOT"):
        build_dataset(DatasetEntry(name="needs_root"), load_paths(tmp_path))
    monkeypatch.setenv("PYTRACKING_LASOT_ROOT", str(tmp_path))
    assert build_dataset(DatasetEntry(name="needs_root"), load_paths(tmp_path)).root == tmp_path


def test_cli_runs_as_a_script_from_the_repo_root() -> None:
    result = subprocess.run([sys.executable, "ltr/run_training.py", "--list"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "tiny_net: smoke" in result.stdout


@pytest.mark.slow
def test_torch_compile_option_trains(tmp_path: Path) -> None:
    folders = run("tiny_net", "smoke", [FAKE_DATA, "train.compile=true", "train.epochs=1",
                                         "train.deterministic=false"], workspace=str(tmp_path))
    payload = load_checkpoint(folders[0] / "ep0001.pth")
    assert not any(key.startswith("_orig_mod") for key in payload["state_dict"])  # the bare module is saved


def test_config_given_as_a_yaml_path_names_the_output_folder_by_its_stem(tmp_path):
    from ltr.run_training import stage_dir

    assert stage_dir(tmp_path, "bit", "/elsewhere/my_run.yaml", 2, 2) == tmp_path / "bit" / "my_run" / "stage2"
    assert stage_dir(tmp_path, "bit", "tiny", 1, 1) == tmp_path / "bit" / "tiny"
