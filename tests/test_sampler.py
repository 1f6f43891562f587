"""Episode sampler: frame-gap rules per mode, negatives, mixing, seeding, corrupt frames."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from ltr.config.train import CropConfig, ProcessingConfig, SamplerConfig
from ltr.data.loader import build_loader
from ltr.data.processing import EpisodeProcessing
from ltr.data.sampler import EpisodeSampler, select_frames
from training_fakes import RectangleDataset

ABSENT = tuple(range(10, 20))


def small_processing(**kwargs) -> EpisodeProcessing:
    return EpisodeProcessing(ProcessingConfig(
        template=CropConfig(output_size=32), search=CropConfig(output_size=64, search_area_factor=3.0), **kwargs))


def test_pair_frames_within_max_gap_and_visible() -> None:
    visible = np.ones(200, bool)
    visible[50:60] = False
    config = SamplerConfig(mode="pair", num_templates=2, num_search=2, max_gap=7)
    rng = np.random.default_rng(0)
    for _ in range(500):
        sel = select_frames(rng, visible, np.ones(200, bool), config)
        anchor = sel.search_ids[0]
        for frame in sel.template_ids + sel.search_ids:
            assert abs(frame - anchor) <= 7 and visible[frame]
        assert len(sel.template_ids) == 2 and len(sel.search_ids) == 2


def test_trident_dynamic_template_faces_the_initial_template() -> None:
    visible = np.ones(300, bool)
    visible[100:140] = False
    config = SamplerConfig(mode="trident", num_templates=2, max_gap=20)
    rng = np.random.default_rng(1)
    saw_invisible_dynamic = False
    for _ in range(2000):
        sel = select_frames(rng, visible, np.ones(300, bool), config)
        initial, dynamic = sel.template_ids
        search = sel.search_ids[0]
        assert visible[initial] and visible[search]
        if initial >= search:
            assert search <= dynamic <= search + 20
        else:
            assert search - 20 <= dynamic <= search
        saw_invisible_dynamic |= not visible[dynamic]
    assert saw_invisible_dynamic  # STARK's trident_pro allows an invisible dynamic template


def test_segmentation_episodes_carry_masks_within_gap() -> None:
    data = RectangleDataset(num_sequences=3)
    config = SamplerConfig(mode="segmentation", num_templates=1, max_gap=5)
    sampler = EpisodeSampler([data], config, samples_per_epoch=50)
    for i in range(50):
        ep = sampler[i]
        assert abs(ep.template.frame_ids[0] - ep.search.frame_ids[0]) <= 5
        for group in (ep.template, ep.search):
            assert group.masks is not None and group.masks[0].sum() == np.prod(group.boxes[0][2:])
    with pytest.raises(ValueError, match="without masks: \\['rectangles'\\]"):
        EpisodeSampler([RectangleDataset(masks=False)], config)


def test_absent_negatives_use_a_target_free_frame_and_a_fake_box() -> None:
    data = RectangleDataset(num_sequences=2, absent=ABSENT)
    config = SamplerConfig(mode="pair", max_gap=5, negative_prob=1.0, negative_kinds=["absent"])
    sampler = EpisodeSampler([data], config, samples_per_epoch=40)
    for i in range(40):
        ep = sampler[i]
        assert ep.label == 0.0
        (frame,) = ep.search.frame_ids
        assert frame in ABSENT and ep.search.seq_id == ep.template.seq_id
        nearest = 9 if frame - 9 <= 20 - frame else 20
        np.testing.assert_array_equal(ep.search.boxes[0], data.box(ep.search.seq_id, nearest))
        assert ep.template.frame_ids[0] not in ABSENT


def test_other_sequence_negatives_and_positive_fraction() -> None:
    data = RectangleDataset(num_sequences=6)  # nothing absent: "absent" falls back to another sequence
    config = SamplerConfig(mode="trident", num_templates=2, negative_prob=0.5)
    sampler = EpisodeSampler([data], config, samples_per_epoch=200)
    labels = []
    for i in range(200):
        ep = sampler[i]
        labels.append(ep.label)
        if ep.label == 0.0:
            assert ep.search.seq_id != ep.template.seq_id
        else:
            assert ep.search.seq_id == ep.template.seq_id
    assert 0.38 < 1 - np.mean(labels) < 0.62


def test_negative_samples_are_labelled_after_processing() -> None:
    data = RectangleDataset(num_sequences=3, absent=ABSENT)
    config = SamplerConfig(mode="pair", negative_prob=0.5)
    sampler = EpisodeSampler([data], config, small_processing(), samples_per_epoch=30)
    labels = {float(sampler[i]["label"]) for i in range(30)}
    assert labels == {0.0, 1.0}


def test_dataset_mixing_follows_weights() -> None:
    a, b, c = RectangleDataset(num_sequences=2), RectangleDataset(num_sequences=2), RectangleDataset(num_sequences=2)
    sampler = EpisodeSampler([a, b, c], SamplerConfig(), weights=[3, 1, 0], samples_per_epoch=400)
    for i in range(400):
        sampler[i]
    share = len(a.reads) / (len(a.reads) + len(b.reads))
    assert not c.reads and 0.67 < share < 0.83


def test_image_datasets_repeat_their_single_frame() -> None:
    data = RectangleDataset(num_sequences=5, images=True)
    sampler = EpisodeSampler([data], SamplerConfig(mode="trident", num_templates=2), samples_per_epoch=10)
    ep = sampler[0]
    assert ep.template.frame_ids == [0, 0] and ep.search.frame_ids == [0]


def test_episodes_depend_only_on_seed_epoch_and_index() -> None:
    data = RectangleDataset(num_sequences=4)
    config = SamplerConfig(mode="trident", num_templates=2)
    proc = small_processing(flip_prob=0.5)
    sampler = EpisodeSampler([data], config, proc, samples_per_epoch=8, seed=3)
    other = EpisodeSampler([data], config, proc, samples_per_epoch=8, seed=3)
    for key in [(0, 5), (2, 5), (2, 0)]:
        x, y = sampler[key], other[key]
        assert all(torch.equal(x[k], y[k]) for k in x)
    assert not torch.equal(sampler[(0, 5)]["search_images"], sampler[(1, 5)]["search_images"])
    # the data is the same whatever the number of loader workers or ranks
    one = [b["search_boxes"] for b in build_loader(sampler, batch_size=4, num_workers=0, epoch=2, seed=3)]
    two = [b["search_boxes"] for b in build_loader(sampler, batch_size=4, num_workers=2, epoch=2, seed=3)]
    ranks = [[b["search_boxes"] for b in build_loader(sampler, batch_size=2, epoch=2, seed=3, rank=r, world_size=2)]
             for r in range(2)]
    for x, y in zip(one, two):
        assert torch.equal(x, y)
    merged = torch.cat([torch.stack([ranks[0][k], ranks[1][k]], 1).flatten(0, 1) for k in range(2)])
    assert torch.equal(torch.cat(one), merged)


def test_corrupt_frames_are_skipped_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    corrupt = {(0, f) for f in range(40)}  # every frame of sequence 0 is unreadable
    data = RectangleDataset(num_sequences=2, corrupt=corrupt)
    sampler = EpisodeSampler([data], SamplerConfig(mode="pair"), small_processing(), samples_per_epoch=20)
    with caplog.at_level(logging.WARNING, logger="ltr.data.sampler"):
        samples = [sampler[i] for i in range(20)]
    skipped = sum(int(s["skipped_corrupt"]) for s in samples)
    assert skipped > 0 and sampler.stats["corrupt_frames"] == skipped
    assert sum("corrupt or truncated JPEG" in r.getMessage() for r in caplog.records) == skipped
    assert all(s["search_images"].abs().sum() > 0 for s in samples)


def test_all_corrupt_raises_a_clear_error() -> None:
    data = RectangleDataset(num_sequences=1, corrupt={(0, f) for f in range(40)})
    sampler = EpisodeSampler([data], SamplerConfig(max_attempts=5), small_processing(), samples_per_epoch=1)
    with pytest.raises(RuntimeError, match="5 had unreadable frames"):
        sampler[0]
