"""JCAT training: the contour-weighted loss, the actor on real episodes, head-only learning, configs."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import default_collate

from ltr.actors import ACTORS
from ltr.actors.jcat import mask_iou
from ltr.config.experiment import list_experiments
from ltr.config.train import load_training_experiment
from ltr.data.processing import EpisodeProcessing, normalise_images
from ltr.data.sampler import EpisodeSampler
from ltr.dataset.synthetic.training import SyntheticTrainingDataset
from ltr.models.jcat.experiment import JcatExperiment
from ltr.models.loss.segmentation import (
    contour_weighted_segmentation_loss,
    mask_contour,
)
from ltr.models.registry import NETWORKS

CROP = 64


def test_contour_is_the_mask_boundary():
    mask = torch.zeros(1, 8, 8)
    mask[0, 2:6, 2:6] = 1
    contour = mask_contour(mask)
    assert contour.sum() == 12  # the ring of a 4x4 square
    assert contour[0, 3:5, 3:5].sum() == 0 and (contour <= mask).all()


def test_loss_matches_its_definition():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 2, 8, 8, generator=gen)
    mask = torch.zeros(2, 8, 8)
    mask[:, 2:6, 1:7] = 1
    weight = 1 + mask_contour(mask)
    p_target, p_background = torch.sigmoid(logits[:, 0] / 2), torch.sigmoid(logits[:, 1] / 2)
    expected = (F.binary_cross_entropy(p_target, mask, weight=weight)
                + F.binary_cross_entropy(p_background, 1 - mask))
    torch.testing.assert_close(contour_weighted_segmentation_loss(logits, mask), expected)
    with pytest.raises(ValueError, match="logits must be"):
        contour_weighted_segmentation_loss(logits[:, :1], mask)


def test_mask_iou():
    logits = torch.zeros(2, 2, 4, 4)
    logits[0, 0, :2] = 1.0  # predicts the top half
    truth = torch.zeros(2, 4, 4)
    truth[0, :1] = 1
    iou = mask_iou(logits, truth)
    assert iou.tolist() == [0.5, 1.0]  # 4/8; two empty masks match


@pytest.fixture(scope="module")
def batch() -> dict[str, torch.Tensor]:
    """Four real segmentation episodes from the synthetic data, processed as ``jcat/tiny`` does (64² crops)."""
    cfg = load_training_experiment("jcat", "tiny", [f"data.processing.template.output_size={CROP}",
                                                    f"data.processing.search.output_size={CROP}"])
    dataset = SyntheticTrainingDataset(num_sequences=4, params={"width": 128, "height": 96, "num_frames": 20})
    sampler = EpisodeSampler([dataset], cfg.data.sampler, EpisodeProcessing(cfg.data.processing), seed=0)
    items = [sampler[i] for i in range(4)]
    return {k: v for k, v in default_collate(items).items() if not k.startswith("skipped")}


@pytest.fixture()
def actor():
    torch.manual_seed(0)
    net = NETWORKS.build("jcat", backbone="resnet18")
    return ACTORS.build("jcat", net=net, config=JcatExperiment())


def test_batch_has_what_the_actor_needs(batch):
    assert batch["template_images"].shape == (4, 1, CROP, CROP, 3)  # uint8; the actor normalises on device
    assert normalise_images(batch)["template_images"].shape == (4, 1, 3, CROP, CROP)
    assert batch["search_masks"].shape == (4, 1, CROP, CROP)
    assert batch["search_dist"].shape == (4, 1, CROP, CROP)


def test_actor_reports_loss_and_iou(actor, batch):
    loss, stats = actor(batch)
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert set(stats) == {"segm", "mask_iou"} and 0.0 <= stats["mask_iou"] <= 1.0
    with pytest.raises(KeyError, match="search_dist"):
        actor({k: v for k, v in batch.items() if k != "search_dist"})


def test_gradients_reach_only_the_head(actor, batch):
    loss, _ = actor(batch)
    loss.backward()
    backbone = [p.grad for p in actor.net.feature_extractor.parameters()]
    assert all(g is None for g in backbone)
    head = [(n, p.grad) for n, p in actor.net.segm_predictor.named_parameters()]
    assert all(g is not None for _, g in head)
    assert sum(float(g.abs().sum()) for _, g in head) > 0


def test_a_few_iterations_reduce_the_loss(actor, batch):
    head = [p for p in actor.net.parameters() if p.requires_grad]
    assert head == list(actor.net.segm_predictor.parameters())
    optimizer = torch.optim.Adam(head, lr=1e-3)
    actor.train(True)
    losses = []
    for _ in range(6):
        loss, _ = actor(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.9 * losses[0]


@pytest.mark.parametrize("name", ["default", "default_vot", "tiny", "tiny_vot"])
def test_experiment_files_validate(name):
    assert name in list_experiments("jcat")
    cfg = load_training_experiment("jcat", name)
    assert isinstance(cfg, JcatExperiment) and cfg.network == "jcat" and cfg.actor == "jcat"
    assert cfg.data.sampler.mode == "segmentation" and cfg.data.processing.masks
    assert cfg.train.optimizer == "adam" and cfg.train.trainable == ["segm_predictor"]
    assert cfg.tracking.segmentation.box_mode == ("rotated" if name.endswith("vot") else "axis_aligned")


def test_default_is_the_paper_recipe():
    cfg = load_training_experiment("jcat", "default")
    assert (cfg.model.backbone, cfg.data.batch_size, cfg.data.samples_per_epoch, cfg.train.epochs) == (
        "resnet50", 32, 32000, 80)
    assert cfg.data.processing.search.output_size == 384 and cfg.data.processing.search.search_area_factor == 4.0
    assert (cfg.data.processing.search.center_jitter, cfg.data.processing.search.scale_jitter) == (1.5, 0.25)
    assert cfg.train.lr == 1e-3 and cfg.train.gamma == 0.2 and int(cfg.train.step_fraction * 80) == 20
