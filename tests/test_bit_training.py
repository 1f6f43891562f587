"""BIT training: the two-stage actor on real trident episodes, stage gradients, configs, the CLI.

Batches come from the built-in synthetic dataset through the real sampler and processing, at
the tiny config's crop sizes (64 / 128) and a narrower model, so each step is cheap on a CPU.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import default_collate

from ltr import run_training
from ltr.actors import ACTORS
from ltr.actors.bit import BitActor, box_loss
from ltr.admin.paths import MissingPathError
from ltr.config.train import load_training_experiment, num_stages
from ltr.data.processing import EpisodeProcessing
from ltr.data.sampler import EpisodeSampler
from ltr.dataset.synthetic.training import SyntheticTrainingDataset
from ltr.models.bit.experiment import BitExperiment, BitLossConfig
from ltr.models.loss.box import GIoUL1Loss
from ltr.models.registry import NETWORKS
from ltr.trainers.optim import apply_trainable_filter

SMALL = ["model.d_model=32", "model.nheads=2", "model.dim_feedforward=64", "model.head_channels=32",
         "model.template_size=32", "model.search_size=64", "data.processing.template.output_size=32",
         "data.processing.search.output_size=64"]


def experiment(stage: int, extra: list[str] = ()) -> BitExperiment:
    return load_training_experiment("bit", "tiny", [*SMALL, *extra], stage=stage)


def make_batch(exp: BitExperiment, size: int = 6, seed: int = 0) -> dict:
    dataset = SyntheticTrainingDataset(num_sequences=20, params={"width": 160, "height": 120, "num_frames": 30})
    sampler = EpisodeSampler([dataset], exp.data.sampler, EpisodeProcessing(exp.data.processing),
                             samples_per_epoch=size, seed=seed)
    batch = default_collate([sampler[(0, i)] for i in range(size)])
    for key in ("skipped_corrupt", "skipped_rejected"):
        batch.pop(key)
    return batch


def build(exp: BitExperiment) -> BitActor:
    torch.manual_seed(0)
    net = NETWORKS.build("bit", **exp.network_kwargs())
    return ACTORS.build("bit", net=net, config=exp)


@pytest.fixture(scope="module")
def stage1():
    exp = experiment(1)
    return exp, make_batch(exp)


@pytest.fixture(scope="module")
def stage2():
    exp = experiment(2, ["data.sampler.negative_prob=0.5"])
    return exp, make_batch(exp, size=8, seed=3)


def grads(net: torch.nn.Module) -> set[str]:
    return {n for n, p in net.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}


def fit(actor: BitActor, batch: dict, steps: int, lr: float) -> list[float]:
    params = [p for p in actor.net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr)
    actor.train(True)
    losses = []
    for _ in range(steps):
        loss, stats = actor(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def test_stage1_trains_all_but_the_score_head(stage1):
    exp, batch = stage1
    actor = build(exp)
    loss, stats = actor(batch)
    loss.backward()
    got = grads(actor.net)
    allowed = set(actor.net.stage_parameters(1))
    assert got and got <= allowed
    assert not any(n.startswith(("cls_head.", "cls_pool.")) for n in got)
    assert any(n.startswith("box_head.") for n in got) and any(n.startswith("transformer.") for n in got)
    assert not any(n.startswith("backbone.") for n in got)  # tiny's ImageNet EfficientNet is frozen
    assert {"giou", "l1", "iou", "inverted"} <= set(stats)


def test_stage1_reduces_the_box_loss(stage1):
    exp, batch = stage1
    losses = fit(build(exp), batch, steps=4, lr=1e-3)
    assert losses[-1] < losses[0]


def test_stage1_ignores_negative_episodes(stage1):
    exp, batch = stage1
    actor = build(exp)
    actor.eval()
    with torch.no_grad():
        positives_only, _ = actor(batch)
        mixed = dict(batch, label=batch["label"].clone())
        mixed["label"][0] = 0.0
        mixed["search_boxes_norm"] = batch["search_boxes_norm"].clone()
        mixed["search_boxes_norm"][0] = 5.0  # a fake box that must not count
        loss, _ = actor(mixed)
    assert torch.isfinite(loss) and float(loss) != float(positives_only)
    mixed["label"][:] = 0.0
    with pytest.raises(ValueError, match="without positive"):
        actor(mixed)


def test_inverted_boxes_cost_more_than_any_ordered_box():
    gt = torch.tensor([[0.4, 0.4, 0.2, 0.2]])
    far = torch.tensor([[0.9, 0.9, 0.05, 0.05]], requires_grad=True)  # ordered, far away
    inverted = torch.tensor([[0.5, 0.5, -0.05, 0.2]], requires_grad=True)  # on the target, inverted
    far_loss, _ = box_loss(far, gt, GIoUL1Loss(2.0, 5.0))
    inv_loss, stats = box_loss(inverted, gt, GIoUL1Loss(2.0, 5.0))
    assert stats["inverted"] == 1.0
    assert float(inv_loss.detach()) > 2 * 2.0  # at least the weighted worst GIoU loss
    assert float(far_loss.detach()) >= 0  # never negative, unlike GIoU on inverted boxes
    inv_loss.backward()
    assert inverted.grad[0, 2] < 0  # descending the loss widens the inverted box back to w > 0


def test_stage2_trains_only_the_score_head(stage2):
    exp, batch = stage2
    assert 0 < float(batch["label"].mean()) < 1  # positives and negatives from the sampler
    actor = build(exp)
    loss, stats = actor(batch)
    loss.backward()
    got = grads(actor.net)
    assert got and all(n.startswith(("cls_head.", "cls_pool.")) for n in got)
    assert {"bce", "accuracy", "positives"} <= set(stats)
    losses = fit(actor, batch, steps=5, lr=1e-2)
    assert losses[-1] < losses[0]


def test_stage2_keeps_the_frozen_network_in_eval_mode(stage2):
    exp, batch = stage2
    actor = build(exp)
    before = {k: v.clone() for k, v in actor.net.state_dict().items() if "running" in k}
    fit(actor, batch, steps=1, lr=1e-2)
    assert actor.net.cls_head.training and not actor.net.box_head.training
    after = actor.net.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())  # BatchNorm statistics untouched


def test_stage2_trainable_filter_matches_the_score_head():
    exp = experiment(2)
    net = NETWORKS.build("bit", **exp.network_kwargs())
    assert set(apply_trainable_filter(net, exp.train.trainable)) == set(net.stage_parameters(2))


def test_actor_objective_follows_the_stage():
    assert experiment(1).loss == BitLossConfig(objective="box", giou=2.0, l1=5.0)
    assert experiment(2).loss.objective == "score"


@pytest.mark.parametrize("name", ["default", "r50", "vit_b"])
def test_paper_recipe(name):
    s1 = load_training_experiment("bit", name, stage=1)
    s2 = load_training_experiment("bit", name, stage=2)
    assert num_stages(s1) == 2 and s2.stages[1].init_from_previous
    t = s1.train
    assert (t.optimizer, t.lr, t.weight_decay, t.grad_clip) == ("adamw", 1e-4, 1e-4, 0.1)
    assert t.lr_multipliers["backbone"] == 0.1 and t.epochs == 500 and t.step_fraction == 0.8
    assert [(d.name, d.kwargs.get("split"), d.weight) for d in s1.data.train] == [
        ("lasot", None, 1.0), ("got10k", "vottrain", 1.0), ("coco", None, 1.0), ("trackingnet", None, 1.0)]
    assert s1.data.sampler.mode == "trident" and s1.data.sampler.num_templates == 2
    assert s1.data.sampler.negative_prob == 0.0 and s2.data.sampler.negative_prob == 0.5
    assert s2.train.epochs == 50 and s2.train.epochs < t.epochs and s2.train.trainable


def test_got10k_only_uses_the_full_got10k_train_split():
    cfg = load_training_experiment("bit", "got10k_only")
    assert [(d.name, d.kwargs) for d in cfg.data.train] == [("got10k", {"split": "train"})]


def test_default_without_dataset_paths_fails_clearly(tmp_path: Path, monkeypatch):
    for key in ("LASOT", "GOT10K", "COCO", "TRACKINGNET"):
        monkeypatch.delenv(f"PYTRACKING_{key}_ROOT", raising=False)
    monkeypatch.setenv("PYTRACKING_PATHS", str(tmp_path / "no-such-paths.yaml"))
    with pytest.raises(MissingPathError, match="training dataset 'lasot'.*PYTRACKING_LASOT_ROOT"):
        run_training.run("bit", "default", workspace=str(tmp_path), device="cpu")


@pytest.mark.slow
def test_both_stages_run_end_to_end_and_stage2_starts_from_stage1(tmp_path: Path):
    overrides = [*SMALL, "data.samples_per_epoch=4", "data.batch_size=2", "data.num_workers=0", "data.val=[]",
                 "train.epochs=1"]
    folders = run_training.run("bit", "tiny", overrides, workspace=str(tmp_path), device="cpu")
    assert [f.name for f in folders] == ["stage1", "stage2"]
    from ltr.admin.checkpoint import load_checkpoint
    first = load_checkpoint(sorted(folders[0].glob("*.pth*"))[-1])["state_dict"]
    second = load_checkpoint(sorted(folders[1].glob("*.pth*"))[-1])["state_dict"]
    box_key = next(k for k in first if k.startswith("box_head.") and first[k].is_floating_point())
    score_key = next(k for k in first if k.startswith("cls_head.") and first[k].is_floating_point())
    assert torch.equal(first[box_key], second[box_key])  # stage 2 starts from stage 1, box head frozen
    assert not torch.equal(first[score_key], second[score_key])  # and trains the score head
    assert (tmp_path / "tensorboard" / "bit" / "tiny" / "stage2").is_dir()
