"""Hostile inputs an outside probe found giving silent wrong numbers, crashes or hangs, each now a
clear error naming the file (or, for values a protocol repairs, a warning naming it)."""
import logging
import os
import re
import stat
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import fixtures_benchmarks as fb
from ltr.admin.atomic import atomic_write_text, check_writable
from ltr.admin.checkpoint import CheckpointError, build_network_from_checkpoint, save_checkpoint
from ltr.config.loader import ConfigError, load_yaml
from ltr.data import transforms
from ltr.data.boxes import CropTransform
from ltr.dataset.synthetic.benchmark import materialise_split
from ltr.dataset.synthetic.params import SyntheticParams
from ltr.models.bit.score_head import roi_features
from ltr.models.tiny_net import TinyNet
from pytracking import analyze, run_video
from pytracking.analysis.loading import load_results_only
from pytracking.analysis.protocols.vot_region import region_overlap
from pytracking.api import TrackerAPIError, load_tracker
from pytracking.evaluation import results
from pytracking.evaluation.annotations import AnnotationError
from pytracking.evaluation.datasets import load_dataset
from pytracking.evaluation.experiment import load_experiment
from pytracking.evaluation.raw_results import candidate_names, read_raw_results
from pytracking.evaluation.regions import parse_region
from pytracking.evaluation.results import ResultsFormatError, parse_boxes, read_boxes
from pytracking.evaluation.sequence import Sequence
from pytracking.tracker.jcat import crops as jcat_crops
from pytracking.tracker.jcat.crops import resized_window


# --- result files ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["10,10,20,20 0.9\n" * 4, "1,,2,3\n4,5 6,7,8\n"])
def test_misaligned_fields_are_not_realigned(text):
    """The fast parser once read these as 5 (resp. 2) shifted boxes."""
    with pytest.raises(ResultsFormatError, match=r"peer\.txt:1: expected 4 values, got [35]"):
        parse_boxes(text, "peer.txt")


def test_infinite_values_become_nan_with_a_warning_on_every_path(caplog):
    """A zip member or a results-only folder (``parse_boxes``) is read as a run folder is."""
    with caplog.at_level(logging.WARNING):
        boxes = parse_boxes("1,2,3,4\n14,10,inf,20\n5,6,1e300,8\n", "peer.txt")
    assert np.isnan(boxes[1:]).any(axis=1).all() and not np.isnan(boxes[0]).any()
    assert "peer.txt: 2 values infinite or beyond" in caplog.text


def test_oversized_results_file_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "A.txt"
    path.write_text("1,2,3,4\n" * 100)
    monkeypatch.setattr(results, "MAX_RESULTS_FILE_BYTES", 500)
    with pytest.raises(ResultsFormatError, match=r"A\.txt: 800 bytes, more than the 500"):
        read_boxes(path)


def test_one_file_is_not_scored_for_two_targets(tmp_path):
    """``Jogging.txt`` cannot say which of Jogging_1 / Jogging_2 it holds; Human4 has one target."""
    (tmp_path / "Jogging.txt").write_text("1,2,3,4\n")
    (tmp_path / "Human4.txt").write_text("1,2,3,4\n")
    names = ["Jogging_1", "Jogging_2", "Human4_2"]
    assert "Jogging" not in candidate_names("Jogging_1", names)
    with pytest.raises(FileNotFoundError, match="no raw result for 'Jogging_1'"):
        read_raw_results(tmp_path, "Jogging_1", names)
    assert read_raw_results(tmp_path, "Human4_2", names)[1].name == "Human4.txt"
    frames = [f"{i:04d}.jpg" for i in range(1)]
    sequences = [Sequence(name=n, dataset="otb", frames=frames, ground_truth=np.ones((1, 4))) for n in names]
    method = load_results_only("peer", tmp_path, sequences, "boxes")
    assert sorted(method.results) == ["Human4_2"]
    assert len(method.missing) == 2


def test_times_file_with_text_names_the_file(tmp_path):
    (tmp_path / "A.txt").write_text("1,2,3,4\n")
    (tmp_path / "A_time.txt").write_text("0.1\nabc\n")
    seq = Sequence(name="A", dataset="otb", frames=["0.jpg"], ground_truth=np.ones((1, 4)))
    with pytest.raises(AnnotationError, match=r"A_time\.txt:2: not a number: 'abc'"):
        load_results_only("peer", tmp_path, [seq], "boxes")


# --- VOT regions -------------------------------------------------------------------------------
@pytest.mark.parametrize("line, problem", [
    ("1.5", "not a region or a special code"), ("2.9", "not a region or a special code"),
    ("5", "not a region or a special code"), ("-3", "not a region or a special code"),
    ("inf", "not a region or a special code"), ("inf,10,20,20", "coordinate beyond"),
    ("1e300,10,20,20", "coordinate beyond"), ("m-inf,0,1,1,1", "malformed mask"), ("mnan,0,1,1,1", "malformed mask"),
    ("m0,0,200000,200000,5,5", "mask crop 200000x200000 is larger"),
])
def test_invalid_vot_lines_are_errors_naming_file_and_line(line, problem):
    with pytest.raises(AnnotationError, match=rf"traj\.txt:7: .*{problem}"):
        parse_region(line, Path("traj.txt"), 7)


def test_special_codes_and_nan_still_parse():
    assert [parse_region(v, Path("t"), 1) for v in ("0", "1", "2", "2.0", "nan")] == [0, 1, 2, 2, 0]


def test_huge_polygons_without_an_image_size_are_refused_not_rasterised():
    big = np.array([0, 0, 200000, 0, 200000, 200000, 0, 200000], dtype=float)
    small = np.array([0, 0, 10, 0, 10, 10, 0, 10], dtype=float)
    with pytest.raises(ValueError, match="^ants1: regions spanning 200001x200001 px are too large to rasterise.*image size"):
        region_overlap(big, small, where="ants1")
    assert region_overlap(big, small, (64, 48)) == pytest.approx(11 * 11 / (64 * 48), rel=0.05)


# --- benchmark annotations ---------------------------------------------------------------------
def _got_val(tmp_path: Path) -> Path:
    fb.write_got10k(tmp_path, "val")
    return tmp_path / "val" / "GOT-10k_Val_000001"


def _load_got(tmp_path: Path):
    return load_dataset("got10k", root=tmp_path, split="val").sequence("GOT-10k_Val_000001")


def test_infinite_ground_truth_is_an_error_naming_the_row(tmp_path):
    gt = _got_val(tmp_path) / "groundtruth.txt"
    rows = gt.read_text().splitlines()
    rows[2] = "11,10,inf,20"
    gt.write_text("\n".join(rows) + "\n")
    with pytest.raises(AnnotationError, match=r"groundtruth\.txt: row 3: .*infinite"):
        _load_got(tmp_path)


@pytest.mark.parametrize("value, problem", [("9", "label 9 outside 0..8"), ("-1", "label -1 outside 0..8"),
                                            ("inf", "expected an integer label"), ("nan", "expected an integer label")])
def test_out_of_range_cover_labels_are_errors(tmp_path, value, problem):
    cover = _got_val(tmp_path) / "cover.label"
    rows = cover.read_text().splitlines()
    rows[1] = value
    cover.write_text("\n".join(rows) + "\n")
    with pytest.raises(AnnotationError, match=rf"cover\.label.*{problem}"):
        _load_got(tmp_path)


def test_a_val_sequence_with_only_the_first_box_is_an_error(tmp_path):
    gt = _got_val(tmp_path) / "groundtruth.txt"
    gt.write_text(gt.read_text().splitlines()[0] + "\n")
    with pytest.raises(AnnotationError, match=r"groundtruth\.txt: 1 annotation rows for 6 frames"):
        _load_got(tmp_path)


@pytest.mark.parametrize("resolution", ["(0, 0)", "(-5, 30)", "(1, 2, 3)", "'64x48'"])
def test_stated_resolution_must_be_two_positive_integers(tmp_path, resolution):
    meta = _got_val(tmp_path) / "meta_info.ini"
    meta.write_text(meta.read_text().replace("(64, 48)", resolution))
    with pytest.raises(AnnotationError, match=r"meta_info\.ini: "):
        _load_got(tmp_path)


@pytest.mark.parametrize("width", ["0", "-64", "abc"])
def test_vot_sequence_file_size_must_be_positive(tmp_path, width):
    fb.write_vot2018(tmp_path)
    sequence = tmp_path / "ants1" / "sequence"
    sequence.write_text(sequence.read_text().replace(f"width={fb.IMAGE_SIZE[0]}", f"width={width}"))
    with pytest.raises(AnnotationError, match=rf"ants1/sequence: the stated image size {width} x"):
        load_dataset("vot2018", root=tmp_path).sequence("ants1")


# --- configs and experiments -------------------------------------------------------------------
def test_alias_bomb_is_refused_at_once(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"laughs\.yaml:1: expands to more than 100000 values"):
        load_yaml(path)
    assert time.perf_counter() - start < 10


def test_modest_aliases_still_load(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("base: &b {lr: 0.1, epochs: 3}\nstage1: *b\nstage2: {<<: *b, lr: 0.01}\n")
    assert load_yaml(path)["stage2"] == {"lr": 0.01, "epochs": 3}


@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "a/b", ".."])
def test_experiment_name_is_one_folder_name(tmp_path, name):
    path = tmp_path / "exp.yaml"
    path.write_text(f"name: '{name}'\ndataset: {{name: synthetic}}\n")
    with pytest.raises(ConfigError, match=r"exp\.yaml: name .* one plain folder name"):
        load_experiment(str(path))
    with pytest.raises(ConfigError, match="one plain folder name"):
        load_experiment("synthetic", [f"name={name}"])


def test_absurd_run_count_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"runs.*out of range \[1, 1000\]"):
        load_experiment("synthetic", ["trackers=[{name: static, runs: 100000000}]"])


# --- checkpoints and the video demo ------------------------------------------------------------
def test_checkpoint_with_nan_weights_is_refused(tmp_path):
    net = TinyNet(channels=4)
    with torch.no_grad():
        next(net.parameters())[0].fill_(float("nan"))
    path = save_checkpoint(tmp_path / "nan.pth", net, "tiny_net", {"channels": 4})
    with pytest.raises(CheckpointError, match=r"nan\.pth: 1 tensors hold NaN or infinite values"):
        build_network_from_checkpoint(path)


def test_score_head_pools_a_non_finite_box_instead_of_crashing():
    """torchvision's roi_align crashes the process (SIGSEGV) on NaN box coordinates."""
    f = torch.randn(2, 4, 8, 8)
    boxes = torch.tensor([[float("nan"), 0.1, 0.5, 0.5], [0.1, 0.1, 0.6, 0.6]])
    out = roi_features(f, boxes, 2)
    assert out.shape == (2, 4, 2, 2) and torch.isfinite(out).all()
    torch.testing.assert_close(out[1:], roi_features(f[1:], boxes[1:], 2))


def test_demo_refuses_a_results_name_its_sidecar_would_overwrite(tmp_path):
    with pytest.raises(ValueError, match=r"--results .*r\.json: the boxes file needs another suffix"):
        run_video.main(["static", str(tmp_path / "v.mp4"), "--box", "1,1,4,4", "--results", str(tmp_path / "r.json")])


# --- the API, the reference trackers, crops and output files -----------------------------------
def _frame(height: int = 120, width: int = 160) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)


def test_a_failed_initialize_leaves_nothing_to_track():
    """CSRT refused a sub-pixel box, but the handle kept the old target and the next track crashed."""
    tracker = load_tracker("opencv_csrt")
    tracker.initialize(_frame(), (60, 40, 30, 30))
    tracker.track(_frame())
    with pytest.raises(ValueError, match=r"cannot start on box \[60\.0, 40\.0, 0\.3, 0\.3\] .* 160x120 frame"):
        tracker.initialize(_frame(), (60, 40, 0.3, 0.3))
    with pytest.raises(TrackerAPIError, match="call initialize"):
        tracker.track(_frame())


@pytest.mark.parametrize("name", ["opencv_kcf", "opencv_csrt"])
def test_reference_trackers_refuse_a_frame_size_change(name):
    tracker = load_tracker(name)
    tracker.initialize(_frame(), (60, 40, 30, 30))
    with pytest.raises(ValueError, match=r"frame 1 \(0-based\) is 40x30, the first frame 160x120"):
        tracker.track(_frame(30, 40))


@pytest.mark.parametrize("box", [(True, True, True, True), ["60", "40", "30", "30"], "60,40,30,30"])
def test_api_refuses_boxes_that_are_not_numbers(box):
    with pytest.raises(TypeError, match="expected 4 numbers"):
        load_tracker("static").initialize(_frame(), box)


def test_api_refuses_an_empty_frame():
    with pytest.raises(ValueError, match=r"shape \(0, 0, 3\)"):
        load_tracker("static").initialize(np.zeros((0, 0, 3), np.uint8), (0, 0, 1, 1))


@pytest.mark.parametrize("name", ["opencv_kcf", "opencv_csrt"])
def test_a_box_far_larger_than_the_frame_stays_in_bounded_memory(name):
    """A (-10000, -10000, 20000, 20000) box overlaps the frame, so it is valid; OpenCV's trackers
    used to allocate their models at its size (16 GB for KCF)."""
    tracker = load_tracker(name)
    start = time.perf_counter()
    tracker.initialize(_frame(), (-10000, -10000, 20000, 20000))
    tracker.track(_frame())
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("x0, y0, side, replicate, off_by_one", [(-300, -200, 700, True, True),
                                                                 (-500, -500, 1000, False, False),
                                                                 (-50, -40, 300, True, False)])
def test_large_crop_windows_are_sampled_without_padding_to_the_same_values(monkeypatch, x0, y0, side, replicate,
                                                                          off_by_one):
    image = cv2.GaussianBlur(_frame(), (7, 7), 2)
    padded = resized_window(image, x0, y0, side, 128, replicate, off_by_one)
    padded_float = resized_window(image, x0, y0, side, 128, replicate, off_by_one, as_float=True)
    monkeypatch.setattr(jcat_crops, "MAX_WINDOW_PIXELS", 1)
    direct = resized_window(image, x0, y0, side, 128, replicate, off_by_one)
    assert np.abs(direct.astype(int) - padded.astype(int)).max() <= 1  # fixed-point rounding of two OpenCV paths
    np.testing.assert_allclose(resized_window(image, x0, y0, side, 128, replicate, off_by_one, as_float=True),
                               padded_float, atol=1e-3)


def test_bit_crops_of_huge_windows_use_the_warp(monkeypatch):
    calls = []
    monkeypatch.setattr(transforms, "warp", lambda *args, **kwargs: calls.append(args) or np.zeros((8, 8, 3)))
    crop = CropTransform(-5000.0, -5000.0, 64 / 10000, 64)
    transforms.render_crop(_frame(), crop, transforms.GeometricParams())
    assert len(calls) == 1


@pytest.mark.parametrize("kind", ["folder", "fifo", "symlink"])
def test_outputs_never_replace_anything_but_a_regular_file(tmp_path, kind):
    target = tmp_path / "out.zip"
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        (tmp_path / "real.zip").write_text("keep")
        target.symlink_to(tmp_path / "real.zip")
    with pytest.raises(IsADirectoryError, match=r"out\.zip: it is .*, not a regular file"):
        atomic_write_text(target, "new")
    with pytest.raises(IsADirectoryError, match="not a regular file"):
        check_writable(target)
    assert target.is_symlink() or target.is_dir() or stat.S_ISFIFO(target.lstat().st_mode)


def test_a_results_only_folder_that_does_not_exist_is_named(tmp_path, capsys):
    """It was reported as missing results, and --allow-missing then scored nothing with exit 0."""
    fb.write_synthetic_split(tmp_path / "bench", "test", frames=6)
    path = tmp_path / "exp.yaml"
    path.write_text(f"dataset: {{name: synthetic, split: test, root: {tmp_path / 'bench'}}}\n"
                    f"results_only:\n  - {{name: peer, folder: {tmp_path / 'gone'}}}\n")
    assert analyze.main([str(path), "--workspace", str(tmp_path / "ws"), "--no-plots", "--allow-missing"]) == 2
    assert re.search(r"error: results-only method peer: .*gone: no such results folder", capsys.readouterr().err)


# --- tracker parameters and generator options --------------------------------------------------
def test_jcat_feature_stride_must_match_the_network():
    """With a stride the network does not have, the filter silently put the target elsewhere."""
    tracker = load_tracker("jcat", "tiny", overrides=["tracking.dcf.feature_stride=8"])
    with pytest.raises(ValueError, match=r"feature_stride 8 does not match the network: .*18-cell .*not 36"):
        tracker.initialize(_frame(240, 320), (100, 80, 40, 30))


@pytest.mark.parametrize("name, override, key", [("bit", "model.d_model=32", "model.d_model: 32 (checkpoint 64)"),
                                                 ("jcat", "model.backbone=resnet18", "model.backbone: 'resnet18'")])
def test_model_overrides_that_the_checkpoint_ignores_are_refused(name, override, key):
    with pytest.raises(ValueError, match=rf"_tiny\.pth: the config's model settings differ .*{re.escape(key)}"):
        load_tracker(name, "tiny", overrides=[override])


def test_bit_update_interval_keys_match_any_case_and_are_capped():
    tracker = load_tracker("bit", "tiny", overrides=["tracking.update_intervals={default: [200], API: [3]}"])
    assert tracker.impl.cfg.intervals_for("api") == [3]
    with pytest.raises(ConfigError, match="at most 8 intervals"):
        load_tracker("bit", "tiny", overrides=["tracking.update_intervals={default: [1, 1, 1, 1, 1, 1, 1, 1, 1]}"])


@pytest.mark.parametrize("name, override", [("bit", "tracking.min_target_size=400"),
                                            ("jcat", "tracking.min_target_size=1e9"),
                                            ("gt_noise", "center_noise=1e300")])
def test_parameters_that_make_nonsense_boxes_are_out_of_range(name, override):
    with pytest.raises(ConfigError, match="out of range"):
        load_tracker(name, "tiny" if name != "gt_noise" else None, overrides=[override])


@pytest.mark.parametrize("options, problem", [
    ({"width": 64.5}, r"key 'width': expected int"), ({"width": "abc"}, r"key 'width': expected int"),
    ({"speed": float("nan")}, "key 'speed': expected a finite number"),
    ({"width": 100000, "height": 32}, "at most 4096 a side"), ({"num_frames": 10**9}, r"num_frames must be in \[1"),
])
def test_generator_options_are_typed_and_bounded(options, problem):
    """A 100000 px side tried to allocate 58 GiB; 64.5 or NaN gave errors naming no key."""
    with pytest.raises(ValueError, match=problem):
        SyntheticParams.from_dict(options)


@pytest.mark.parametrize("count, quality", [(10**9, 90), (2.5, 90), (2, 500), (2, -5)])
def test_benchmark_split_sizes_and_jpeg_quality_are_checked(tmp_path, count, quality):
    with pytest.raises(ValueError, match="num_sequences must be an integer|jpeg_quality must be an integer"):
        materialise_split(tmp_path, "test", count, SyntheticParams(width=64, height=48, num_frames=2),
                          jpeg_quality=quality)


def test_unknown_sequence_error_is_not_a_key_repr(tmp_path, capsys):
    from pytracking import run_tracker

    fb.write_synthetic_split(tmp_path / "bench", "test", frames=6)
    assert run_tracker.main(["static", "--dataset", "synthetic", "--root", str(tmp_path / "bench"), "--sequence",
                             "nope", "--workspace", str(tmp_path / "ws")]) == 2
    assert capsys.readouterr().err.startswith("error: dataset 'synthetic': unknown sequences nope")


@pytest.mark.parametrize("name, overrides, problem", [
    ("jcat", ["tracking.sample_filter.response_budget_init=-1e300"], "out of range"),
    ("jcat", ["tracking.segmentation.fit_min_area_ratio=10", "tracking.segmentation.fit_max_area_ratio=0"],
     "must be below fit_max_area_ratio"),
    ("bit", ["tracking.clip_margin=1e9"], "out of range"),
])
def test_tracker_settings_without_a_meaning_are_refused(name, overrides, problem):
    with pytest.raises(ConfigError, match=problem):
        load_tracker(name, "tiny", overrides=overrides)


def test_reference_tracker_rect_keeps_openCV_rounding_inside_the_grown_frame():
    """Only boxes leaving the frame grown by its size are cut; others get the rounding they always had."""
    from pytracking.tracker.reference.opencv import frame_rect

    rng = np.random.default_rng(0)
    for x, y, w, h in np.column_stack([rng.uniform(-100, 200, (200, 2)), rng.uniform(0.2, 120, (200, 2))]):
        if x >= -159 and y >= -119 and x + w <= 319 and y + h <= 239:
            assert frame_rect([x, y, w, h], 160, 120) == (round(x), round(y), max(1, round(w)), max(1, round(h)))
    assert frame_rect([-10000, -10000, 20000, 20000], 160, 120) == (-160, -120, 480, 360)
