"""Built-in synthetic data: determinism, exact annotations, attribute tags, GOT-10k layout on disk."""
import ast
import itertools
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from fixtures_train_datasets import check_visible_boxes, mask_box
import torch

from ltr.dataset.base import TRAIN_DATASETS
from ltr.dataset.synthetic import EVENTS, SPLITS, SyntheticParams, SyntheticSequence, benchmark, sequence_seed
from ltr.dataset.synthetic.geometry import SequenceGeometry
from ltr.dataset.synthetic.shapes import place
from ltr.dataset.synthetic.splits import SPLIT_STRIDE

SMALL = SyntheticParams(width=160, height=120, num_frames=20)
ALL_EVENTS = SMALL.with_events(1.0)
SEEDS = (0, 1, 2)


# -- determinism ----------------------------------------------------------------------------------

def test_same_seed_gives_identical_frames_boxes_and_masks():
    a, b = SyntheticSequence(5, ALL_EVENTS), SyntheticSequence(5, ALL_EVENTS)
    np.testing.assert_array_equal(a.geometry.boxes, b.geometry.boxes)
    np.testing.assert_array_equal(a.geometry.visible_pixels, b.geometry.visible_pixels)
    assert a.attributes == b.attributes
    for (image_a, mask_a), (image_b, mask_b) in zip(a.frames(), b.frames(), strict=True):
        np.testing.assert_array_equal(image_a, image_b)
        np.testing.assert_array_equal(mask_a, mask_b)


def test_random_access_does_not_depend_on_render_order():
    alone = SyntheticSequence(7, ALL_EVENTS).render_frame(7)
    full_pass = list(SyntheticSequence(7, ALL_EVENTS).frames())
    backwards = SyntheticSequence(7, ALL_EVENTS)
    reversed_frames = {i: backwards.render_frame(i) for i in reversed(range(len(backwards)))}
    for got in (alone, reversed_frames[7]):
        np.testing.assert_array_equal(got[0], full_pass[7][0])
        np.testing.assert_array_equal(got[1], full_pass[7][1])


def test_render_frame_rejects_out_of_range():
    with pytest.raises(IndexError):
        SyntheticSequence(0, SMALL).render_frame(SMALL.num_frames)


def test_splits_use_disjoint_seeds_and_give_different_sequences():
    blocks = [{sequence_seed(s, 0), sequence_seed(s, SPLIT_STRIDE - 1)} for s in SPLITS]
    ranges = sorted((min(b), max(b)) for b in blocks)
    assert all(hi < next_lo for (_, hi), (next_lo, _) in itertools.pairwise(ranges))
    assert sequence_seed("train", 0, base_seed=1) > max(max(b) for b in blocks)
    train, test = (SyntheticSequence(sequence_seed(s, 0), SMALL) for s in ("train", "test"))
    assert not np.array_equal(train.geometry.boxes, test.geometry.boxes)
    assert not np.array_equal(train.render_frame(0)[0], test.render_frame(0)[0])
    with pytest.raises(ValueError, match="unknown synthetic split"):
        sequence_seed("holdout", 0)


# -- exact annotations ----------------------------------------------------------------------------

@pytest.mark.parametrize("params", [SMALL, ALL_EVENTS], ids=["default-odds", "all-events"])
def test_box_is_exact_mask_extent_when_target_fully_visible(params):
    checked = 0
    for seed in SEEDS:
        checked += check_visible_boxes(SyntheticSequence(seed, params), f"seed {seed}")
    assert checked >= 10


def test_box_is_the_analytic_extent_rounded_out_to_whole_pixels():
    """The raster covers every pixel the polygon touches, so each box edge lies at most one pixel
    outside the polygon's exact extent (plus 1/16 px of vertex quantisation) and never inside it."""
    slack = 1 / 16
    for seed in range(20):
        sequence = SyntheticSequence(seed, ALL_EVENTS)
        target = sequence.plan.target
        vertices = place(target.outline, target.center, target.size, target.angle)
        lo, hi = vertices.min(axis=1), vertices.max(axis=1)
        boxes = sequence.geometry.boxes
        box_lo, box_hi = boxes[:, :2], boxes[:, :2] + boxes[:, 2:]
        assert np.all((box_lo <= lo + slack) & (box_lo >= lo - 1 - slack))
        assert np.all((box_hi >= hi - slack) & (box_hi <= hi + 1 + slack))


def test_visibility_ratio_agrees_with_rendered_mask():
    for seed in SEEDS:
        sequence = SyntheticSequence(seed, ALL_EVENTS)
        geometry = sequence.geometry
        for i, (_, mask) in enumerate(sequence.frames()):
            assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
            assert int(mask.sum()) == geometry.visible_pixels[i]
            assert mask.sum() / geometry.full_pixels[i] == pytest.approx(geometry.visible_ratio[i])
            if mask.any():  # visible pixels lie inside the full target's box
                x, y, w, h = mask_box(mask)
                bx, by, bw, bh = geometry.boxes[i]
                assert bx <= x and by <= y and x + w <= bx + bw and y + h <= by + bh


def test_first_frame_shows_the_whole_target():
    for seed in range(10):
        assert SyntheticSequence(seed, ALL_EVENTS).geometry.visible_ratio[0] == 1.0


def test_hidden_target_keeps_its_true_box():
    geometry = SyntheticSequence(0, ALL_EVENTS).geometry
    hidden = geometry.visible_pixels == 0
    assert hidden.any() and np.all(geometry.boxes[hidden, 2:] > 0)
    assert np.any(geometry.cut_by_image & ~hidden)


def test_cover_label_is_zero_iff_hidden_and_eight_iff_fully_visible():
    full = np.full(6, 800)
    visible = np.array([0, 1, 100, 700, 799, 800])
    geometry = SequenceGeometry(np.ones((6, 4)), full, full, visible)
    np.testing.assert_array_equal(geometry.cover, [0, 1, 1, 7, 7, 8])
    np.testing.assert_array_equal(geometry.absent, [1, 0, 0, 0, 0, 0])


# -- attribute tags -------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_forced_events_are_tagged(seed):
    assert SyntheticSequence(seed, ALL_EVENTS).attributes == list(EVENTS)


@pytest.mark.parametrize("seed", SEEDS)
def test_no_events_no_tags(seed):
    sequence = SyntheticSequence(seed, SMALL.with_events(0.0))
    assert sequence.attributes == []
    assert np.all(sequence.geometry.visible_ratio == 1.0)


def test_single_forced_event_is_tagged():
    for event in EVENTS:
        params = SMALL.with_events(0.0).with_events(1.0, event)
        assert event in SyntheticSequence(3, params).attributes, event


# -- parameters and photo textures ----------------------------------------------------------------

def test_params_round_trip_and_validation():
    assert SyntheticParams.from_dict(json.loads(json.dumps(ALL_EVENTS.to_dict()))) == ALL_EVENTS
    with pytest.raises(TypeError, match="unknown synthetic parameter"):
        SyntheticParams.from_dict({"widht": 100})
    with pytest.raises(ValueError, match="p_blur"):
        SyntheticParams(p_blur=1.5)
    with pytest.raises(ValueError, match="shapes"):
        SyntheticParams(shapes=("star",))
    with pytest.raises(KeyError, match="unknown event"):
        SMALL.with_events(1.0, "earthquake")


def test_textures_can_be_cut_from_an_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for k in range(2):
        cv2.imwrite(str(tmp_path / f"photo{k}.png"), rng.integers(0, 255, (60, 80, 3), dtype=np.uint8))
    params = SyntheticParams(width=96, height=64, num_frames=3, image_folder=str(tmp_path), p_image_texture=1.0)
    sequence = SyntheticSequence(1, params)
    assert sequence.plan.target.texture.kind == "image"
    np.testing.assert_array_equal(sequence.render_frame(2)[0], SyntheticSequence(1, params).render_frame(2)[0])
    with pytest.raises(FileNotFoundError, match="not a folder"):
        SyntheticSequence(1, SyntheticParams(image_folder=str(tmp_path / "missing"), p_image_texture=1.0))


# -- training dataset -----------------------------------------------------------------------------

def test_training_dataset_is_registered_and_returns_frames_boxes_masks():
    dataset = TRAIN_DATASETS.build("synthetic", num_sequences=5, params=SMALL.to_dict())
    assert len(dataset) == 5 and dataset.has_masks() and dataset.get_sequence_name(0) == "Synthetic_Train_000001"
    info = dataset.get_sequence_info(2)
    assert info["bbox"].shape == (20, 4) and info["bbox"].dtype == torch.float32
    assert info["visible"].dtype == torch.bool and info["visible_ratio"].dtype == torch.float32
    frames, anno, meta = dataset.get_frames(2, [0, 9, 19], info)
    assert [f.shape for f in frames] == [(120, 160, 3)] * 3 and frames[0].dtype == np.uint8
    sequence = SyntheticSequence(sequence_seed("train", 2), SMALL)
    for k, i in enumerate([0, 9, 19]):
        assert torch.equal(anno["bbox"][k], info["bbox"][i])
        image, mask = sequence.render_frame(i)
        np.testing.assert_array_equal(frames[k], image)
        np.testing.assert_array_equal(anno["mask"][k], mask)
    assert meta["object_class"] == sequence.object_class and meta["attributes"] == sequence.attributes
    val = TRAIN_DATASETS.build("synthetic", num_sequences=5, split="val", params=SMALL)
    assert not torch.equal(val.get_sequence_info(2)["bbox"], info["bbox"])
    with pytest.raises(IndexError):
        dataset.get_sequence_info(5)


# -- materialised benchmark -----------------------------------------------------------------------

def read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory):
    return benchmark.materialise_split(tmp_path_factory.mktemp("synthetic"), "test", 3, ALL_EVENTS, workers=1)


def test_materialised_split_has_got10k_layout(split_dir):
    names = read_lines(split_dir / "list.txt")  # got10k reads read().strip().split('\n')
    assert names == ["Synthetic_Test_000001", "Synthetic_Test_000002", "Synthetic_Test_000003"]
    assert (split_dir / ".complete").is_file() and not (split_dir / ".in_progress").exists()
    assert sorted(p.name for p in split_dir.iterdir()) == sorted([".complete", "attributes.json", "list.txt", *names])
    attributes = json.loads((split_dir / "attributes.json").read_text())
    for k, name in enumerate(names):
        folder = split_dir / name
        frames = sorted(p.name for p in folder.glob("*.jpg"))
        assert frames == [f"{i:08d}.jpg" for i in range(1, 21)]
        assert sorted(p.name for p in (folder / "masks").iterdir()) == [f"{i:08d}.png" for i in range(1, 21)]
        gt = read_lines(folder / "groundtruth.txt")
        assert len(gt) == 20 and all(re.fullmatch(r"(-?\d+\.\d{4},){3}-?\d+\.\d{4}", line) for line in gt)
        labels = {key: [int(v) for v in read_lines(folder / f"{key}.label")]
                  for key in ("absence", "cover", "cut_by_image")}
        assert all(len(v) == 20 for v in labels.values())
        assert set(labels["cover"]) <= set(range(9)) and set(labels["absence"]) <= {0, 1}
        assert [c == 0 for c in labels["cover"]] == [a == 1 for a in labels["absence"]]
        meta = (folder / "meta_info.ini").read_text().split("\n")
        assert meta[0] == "[METAINFO]" and meta[-1] == ""
        assert [line.split(": ")[0] for line in meta[1:-1]] == [
            "url", "begin", "end", "anno_fps", "object_class", "motion_class", "major_class", "root_class",
            "motion_adverb", "resolution"]
        sequence = SyntheticSequence(sequence_seed("test", k), ALL_EVENTS)
        lines = (folder / "meta_info.ini").open().readlines()  # pytracking's ltr reads lines 5-9 by index
        assert lines[5].split(": ")[-1][:-1] == sequence.object_class
        assert ast.literal_eval(meta[10].split(": ")[1]) == (160, 120)
        assert attributes[name] == sequence.attributes


def test_materialised_annotations_match_the_generator(split_dir):
    sequence = SyntheticSequence(sequence_seed("test", 0), ALL_EVENTS)
    folder = split_dir / "Synthetic_Test_000001"
    gt = np.loadtxt(folder / "groundtruth.txt", delimiter=",")
    np.testing.assert_allclose(gt, sequence.geometry.boxes, atol=5e-5)
    cover = np.loadtxt(folder / "cover.label", dtype=int)
    for i, (image, mask) in enumerate(sequence.frames()):
        stored = cv2.imread(str(folder / "masks" / f"{i + 1:08d}.png"), cv2.IMREAD_UNCHANGED)
        assert stored.dtype == np.uint8 and set(np.unique(stored)) <= {0, 255}
        np.testing.assert_array_equal(stored, mask * 255)
        assert (cover[i] == 0) == (not mask.any())
        assert (cover[i] == 8) == (mask.sum() == sequence.geometry.full_pixels[i])
        jpeg = cv2.cvtColor(cv2.imread(str(folder / f"{i + 1:08d}.jpg")), cv2.COLOR_BGR2RGB)
        assert np.abs(jpeg.astype(int) - image).mean() < 6


def test_rerun_with_same_parameters_is_a_no_op(split_dir):
    frame = split_dir / "Synthetic_Test_000002" / "00000003.jpg"
    before = frame.stat().st_mtime_ns, (split_dir / ".complete").stat().st_mtime_ns
    assert benchmark.materialise_split(split_dir.parent, "test", 3, ALL_EVENTS, workers=1) == split_dir
    assert (frame.stat().st_mtime_ns, (split_dir / ".complete").stat().st_mtime_ns) == before


def test_different_parameters_are_refused_unless_overwrite(tmp_path):
    params = SMALL.with_events(0.0)
    benchmark.materialise_split(tmp_path, "val", 1, params, workers=1)
    other = SyntheticParams(width=160, height=120, num_frames=5)
    with pytest.raises(FileExistsError, match="num_frames"):
        benchmark.materialise_split(tmp_path, "val", 1, other, workers=1)
    benchmark.materialise_split(tmp_path, "val", 1, other, workers=1, overwrite=True)
    assert len(read_lines(tmp_path / "val" / "Synthetic_Val_000001" / "groundtruth.txt")) == 5
    assert json.loads((tmp_path / "val" / ".complete").read_text())["params"]["num_frames"] == 5


def test_foreign_folder_is_never_overwritten_silently(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="holds no synthetic split"):
        benchmark.materialise_split(tmp_path, "test", 1, SMALL, workers=1)
    assert (tmp_path / "test" / "notes.txt").read_text() == "mine"


def test_interrupted_split_without_marker_is_redone(tmp_path):
    params = SMALL.with_events(0.0)
    split = benchmark.materialise_split(tmp_path, "train", 2, params, workers=1)
    reference = (split / "Synthetic_Train_000002" / "00000004.jpg").read_bytes()
    (split / ".complete").unlink()
    (split / "Synthetic_Train_000002" / "00000004.jpg").write_bytes(b"partial")
    benchmark.materialise_split(tmp_path, "train", 2, params, workers=1)
    assert (split / ".complete").is_file()
    assert (split / "Synthetic_Train_000002" / "00000004.jpg").read_bytes() == reference


def test_interrupted_run_resumes_and_keeps_finished_sequences(tmp_path):
    params = SMALL.with_events(0.0)
    split = benchmark.materialise_split(tmp_path, "train", 2, params, workers=1)
    record = (split / ".complete").read_text()
    kept = split / "Synthetic_Train_000001" / "00000001.jpg"
    kept_mtime = kept.stat().st_mtime_ns
    reference = (split / "Synthetic_Train_000002" / "groundtruth.txt").read_text()
    (split / ".complete").rename(split / ".in_progress")  # as a crash mid-run leaves it
    (split / "Synthetic_Train_000002").rename(split / ".Synthetic_Train_000002.partial")
    (split / "list.txt").unlink()
    benchmark.materialise_split(tmp_path, "train", 2, params, workers=1)
    assert (split / ".complete").read_text() == record and not (split / ".in_progress").exists()
    assert not (split / ".Synthetic_Train_000002.partial").exists()
    assert (split / "Synthetic_Train_000002" / "groundtruth.txt").read_text() == reference
    assert kept.stat().st_mtime_ns == kept_mtime
    assert read_lines(split / "list.txt") == ["Synthetic_Train_000001", "Synthetic_Train_000002"]


def test_cli_with_worker_processes(tmp_path, capsys):
    argv = ["--root", str(tmp_path), "--split", "val", "--sequences", "2", "--frames", "4", "--size", "64x48",
            "--workers", "2"]
    assert benchmark.main(argv) == 0
    assert "2 sequences x 4 frames" in capsys.readouterr().out
    assert read_lines(tmp_path / "val" / "list.txt") == ["Synthetic_Val_000001", "Synthetic_Val_000002"]
    assert len(list((tmp_path / "val" / "Synthetic_Val_000002").glob("*.jpg"))) == 4
