"""Training: a non-finite loss writes no checkpoint; resume refuses a changed config (issue 14)."""
from pathlib import Path

import pytest

import training_fakes
from ltr.run_training import run
from ltr.trainers.checkpoints import CheckpointFolder
from ltr.trainers.trainer import NonFiniteError, ResumeError, config_changes

FAKE_DATA = "data.train=[{name: rectangles, kwargs: {num_sequences: 4}}]"
BASE = [FAKE_DATA, "data.samples_per_epoch=16", "data.num_workers=0"]
training_fakes.register()


def _folder(ws: Path) -> CheckpointFolder:
    return CheckpointFolder(ws / "checkpoints" / "tiny_net" / "smoke")


def test_non_finite_loss_stops_before_a_checkpoint(tmp_path):
    with pytest.raises(NonFiniteError, match="epoch 1.*before writing"):
        run("tiny_net", "smoke", [*BASE, "train.epochs=2", "train.lr=1e30"], workspace=str(tmp_path))
    assert _folder(tmp_path).latest() is None


def test_resume_with_a_changed_setting_is_refused(tmp_path):
    run("tiny_net", "smoke", [*BASE, "train.epochs=1"], workspace=str(tmp_path))
    with pytest.raises(ResumeError, match=r"train\.lr: 0\.001 -> 0\.5"):
        run("tiny_net", "smoke", [*BASE, "train.epochs=2", "train.lr=0.5"], resume=True, workspace=str(tmp_path))
    assert _folder(tmp_path).epochs() == [1]
    run("tiny_net", "smoke", [*BASE, "train.epochs=2"], resume=True, workspace=str(tmp_path))  # epochs may grow
    assert _folder(tmp_path).epochs() == [1, 2]


def test_config_changes_ignores_epochs_only():
    assert config_changes({"train": {"epochs": 1, "lr": 1}}, {"train": {"epochs": 5, "lr": 1}}) == []
    assert config_changes({"model": {"width": 8}}, {"model": {"width": 16}, "x": 1}) == ["model.width", "x"]
