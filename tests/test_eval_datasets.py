"""Evaluation dataset readers on tiny fixtures in each benchmark's exact layout (formats.md quirks)."""
from __future__ import annotations

from pathlib import Path

import fixtures_benchmarks as fb
import numpy as np
import pytest

from pytracking.evaluation.annotations import AnnotationError, MissingFileError
from pytracking.evaluation.datasets import EVAL_DATASETS, load_dataset
from pytracking.evaluation.datasets.base import package_data
from pytracking.evaluation.datasets.got10k import train_holdout_names
from pytracking.evaluation.regions import RleMask


def test_registry_lists_every_benchmark():
    assert set(EVAL_DATASETS.names()) >= {"otb", "lasot", "got10k", "trackingnet", "uav", "nfs", "vot2018",
                                          "vot2020", "synthetic"}


def test_package_tables_are_complete():
    otb = package_data("otb100.json")
    assert len(otb["sequences"]) == 100 and len(otb["attribute_names"]) == 11
    assert all(info["attributes"] for info in otb["sequences"].values())
    uav = package_data("uav123.json")["UAV123"]
    assert len(uav) == 123
    assert uav["bird1_2"] == {"folder": "bird1", "start_frame": 775, "end_frame": 1477, "object_class": "bird"}
    assert uav["car1_1"]["end_frame"] == uav["car1_2"]["start_frame"] == 751
    assert uav["uav1_2"]["end_frame"] == 2377 and uav["uav1_3"]["start_frame"] == 2473
    assert len(train_holdout_names()) == 186


# --- OTB ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def otb_root(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("otb")
    return root, fb.write_otb(root)


def test_otb_quirks(otb_root):
    root, gt = otb_root
    ds = load_dataset("otb", root=root).select(list(fb.OTB_QUIRKY))
    assert len(ds) == len(fb.OTB_QUIRKY)
    board = ds.sequence("Board")
    assert Path(board.frames[0]).name == "00001.jpg" and len(board) == 698
    blurcar = ds.sequence("BlurCar3")
    assert Path(blurcar.frames[0]).name == "0003.jpg" and len(blurcar) == 357
    np.testing.assert_allclose(blurcar.ground_truth, gt["BlurCar3"])  # tab file with a space row
    david = ds.sequence("David")
    assert Path(david.frames[0]).name == "0300.jpg" and len(david) == 471
    assert len(ds.sequence("Diving")) == 215
    tiger = ds.sequence("Tiger1")
    assert Path(tiger.frames[0]).name == "0006.jpg" and len(tiger) == 349
    np.testing.assert_allclose(tiger.ground_truth, gt["Tiger1"][5:])
    assert len(load_dataset("otb", root=root, init_omit=False).sequence("Tiger1")) == 354
    j1, j2 = ds.sequence("Jogging_1"), ds.sequence("Jogging_2")
    assert j1.frames == j2.frames
    np.testing.assert_allclose(j2.ground_truth, gt["Jogging_2"])
    human = ds.sequence("Human4_2")
    assert Path(human.frames[0]).parts[-3] == "Human4"
    np.testing.assert_allclose(human.ground_truth, gt["Human4_2"])
    assert "Diving" in [s.name for s in ds.subset("DEF")] and "Board" not in ds.subset("DEF").sequence_names()


def test_otb_errors_name_file_and_line(tmp_path):
    gt = fb.write_otb(tmp_path, ("Deer",))
    anno = tmp_path / "Deer" / "groundtruth_rect.txt"
    lines = anno.read_text().splitlines()
    lines[6] = "1,2,three,4"
    anno.write_text("\n".join(lines) + "\n")
    ds = load_dataset("otb", root=tmp_path)
    with pytest.raises(AnnotationError, match=r"groundtruth_rect.txt:7: not a number: 'three'"):
        ds.sequence("Deer")
    lines[6] = "1,2,3"
    anno.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnnotationError, match=r"groundtruth_rect.txt:7: expected 4 values, found 3"):
        ds.sequence("Deer")
    anno.write_text("\n".join(lines[:3]) + "\n")
    with pytest.raises(AnnotationError, match="3 annotation rows for 71 frames"):
        ds.sequence("Deer")
    with pytest.raises(MissingFileError, match="Basketball"):
        ds.sequence("Basketball")
    assert len(gt["Deer"]) == 71


# --- LaSOT --------------------------------------------------------------------------------------
def test_lasot_protocols_and_visibility(tmp_path):
    gt = fb.write_lasot(tmp_path)
    test = load_dataset("lasot", root=tmp_path)
    assert test.sequence_names() == ["airplane-1", "bird-3"]
    assert load_dataset("lasot", root=tmp_path, split="all").sequence_names() == ["airplane-1", "airplane-2", "bird-3"]
    seq = test.sequence("bird-3")
    np.testing.assert_allclose(seq.ground_truth, gt["bird-3"])
    assert seq.target_visible.tolist() == [True, True, False, True, True, False, True, True]
    assert seq.object_class == "bird" and seq.extra["nlp"] == "the bird-3 in the sky"
    (tmp_path / "att").mkdir()
    (tmp_path / "att" / "bird-3.txt").write_text("1,0,0,0,0,0,0,0,0,1,0,0,0,0\n")
    assert load_dataset("lasot", root=tmp_path).subset("FOC").sequence_names() == ["bird-3"]


def test_lasot_flag_length_mismatch(tmp_path):
    fb.write_lasot(tmp_path)
    (tmp_path / "airplane" / "airplane-1" / "out_of_view.txt").write_text("0,0,1\n")
    with pytest.raises(AnnotationError, match="out_of_view.txt: 3 flags for 8 frames"):
        load_dataset("lasot", root=tmp_path).sequence("airplane-1")


# --- GOT-10k ------------------------------------------------------------------------------------
def test_got10k_val_and_test(tmp_path):
    val = fb.write_got10k(tmp_path, "val")
    test = fb.write_got10k(tmp_path, "test")
    seq = load_dataset("got10k", root=tmp_path, split="val").sequence("GOT-10k_Val_000002")
    np.testing.assert_allclose(seq.ground_truth, val["GOT-10k_Val_000002"])
    assert seq.target_visible.tolist() == [True] * 4 + [False, True]
    assert seq.object_class == "ctenophore" and seq.image_size == (64, 48)
    assert seq.extra["cover"][4] == 0
    tseq = load_dataset("got10k", root=tmp_path, split="test").sequence("GOT-10k_Test_000001")
    np.testing.assert_allclose(tseq.ground_truth, test["GOT-10k_Test_000001"])
    assert np.isnan(tseq.ground_truth[1:]).all() and tseq.target_visible is None


def test_got10k_train_holdout(tmp_path):
    fb.write_got10k(tmp_path, "train", ("GOT-10k_Train_000049", "GOT-10k_Train_000050", "GOT-10k_Train_000100"))
    ds = load_dataset("got10k", root=tmp_path, split="train_holdout")
    assert ds.sequence_names() == ["GOT-10k_Train_000050", "GOT-10k_Train_000100"]
    assert ds.results_name == "got10k_train_holdout"


def test_got10k_bad_label_file(tmp_path):
    fb.write_got10k(tmp_path, "val")
    (tmp_path / "val" / "GOT-10k_Val_000001" / "cover.label").write_text("8\n8\nx\n")
    with pytest.raises(AnnotationError, match=r"cover.label:3: not a number"):
        load_dataset("got10k", root=tmp_path, split="val").sequence("GOT-10k_Val_000001")


# --- TrackingNet --------------------------------------------------------------------------------
def test_trackingnet_numeric_frames_crlf_padded(tmp_path):
    gt = fb.write_trackingnet(tmp_path)
    ds = load_dataset("trackingnet", root=tmp_path)
    assert ds.sequence_names() == ["-3TIfnTSM6c_2", "a_b_c_0"]
    seq = ds.sequence("-3TIfnTSM6c_2")
    assert [Path(f).name for f in seq.frames[:3]] == ["0.jpg", "1.jpg", "2.jpg"]
    assert Path(seq.frames[10]).name == "10.jpg"
    np.testing.assert_allclose(seq.ground_truth, gt["-3TIfnTSM6c_2"])


# --- UAV123 -------------------------------------------------------------------------------------
def test_uav_ranges_nan_rows_attributes(tmp_path):
    gt = fb.write_uav(tmp_path)
    ds = load_dataset("uav", root=tmp_path).select(["uav6", "truck4_1", "truck4_2"])
    t2 = ds.sequence("truck4_2")
    assert Path(t2.frames[0]).name == "000577.jpg" and Path(t2.frames[-1]).name == "001261.jpg"
    assert Path(ds.sequence("truck4_1").frames[-1]).name == "000577.jpg"
    uav6 = ds.sequence("uav6")
    assert np.isnan(uav6.ground_truth[3]).all() and not uav6.target_visible[3] and uav6.target_visible[4]
    np.testing.assert_allclose(uav6.ground_truth, gt["uav6"])
    assert uav6.attributes == ["SV", "FM", "SOB"]
    assert ds.subset("SOB").sequence_names() == ["uav6"]
    with pytest.raises(MissingFileError, match="bike1"):
        load_dataset("uav", root=tmp_path).sequence("bike1")


# --- NfS ----------------------------------------------------------------------------------------
def test_nfs_every_8th_row_and_trim(tmp_path):
    gt = fb.write_nfs(tmp_path)
    ds30 = load_dataset("nfs", root=tmp_path)
    assert ds30.sequence_names() == ["Gymnastics", "ball"] and ds30.results_name == "nfs"
    for name in ("Gymnastics", "ball"):
        seq = ds30.sequence(name)
        assert len(seq) == 5
        np.testing.assert_allclose(seq.ground_truth, gt[name]["30"])
    ds240 = load_dataset("nfs", root=tmp_path, split="240")
    gym = ds240.sequence("Gymnastics")
    assert len(gym) == 39  # one annotation row short: frames trimmed
    np.testing.assert_allclose(gym.ground_truth, gt["Gymnastics"]["240"])
    assert not gym.target_visible[4] and gym.extra["occluded"][5]
    assert ds240.results_name == "nfs_240"


def test_nfs_malformed_row(tmp_path):
    fb.write_nfs(tmp_path, ("ball",), short_by_one=())
    anno = tmp_path / "ball" / "240" / "ball.txt"
    lines = anno.read_text().splitlines()
    lines[2] = "1 417 183"
    anno.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnnotationError, match=r"ball.txt:3: expected 9 numeric fields"):
        load_dataset("nfs", root=tmp_path, split="240").sequence("ball")


# --- VOT ----------------------------------------------------------------------------------------
def test_vot2018_polygons_and_rectangles(tmp_path):
    gt = fb.write_vot2018(tmp_path)
    ds = load_dataset("vot2018", root=tmp_path)
    ants = ds.sequence("ants1")
    np.testing.assert_allclose(ants.ground_truth, gt["ants1"])
    assert len(ants.regions[0]) == 8 and ants.init_info()["init_region"] is ants.regions[0]
    np.testing.assert_allclose(ds.sequence("conduction1").ground_truth, gt["conduction1"])
    assert ants.extra["tags"]["occlusion"].tolist() == [False, True, False, False, False]
    assert ants.attributes == ["occlusion"] and ds.subset("occlusion").sequence_names() == ["ants1", "conduction1"]
    assert ants.image_size == (64, 48)


def test_vot2020_masks_and_anchors(tmp_path):
    gt = fb.write_vot2020(tmp_path)
    seq = load_dataset("vot2020", root=tmp_path).sequence("agility")
    np.testing.assert_allclose(seq.ground_truth, gt["agility"])
    region = seq.regions[2]
    assert isinstance(region, RleMask)
    mask = region.to_mask(64, 48)
    assert mask.shape == (48, 64) and mask.sum() == 12 * 8 + 4 * 8 and mask[10, 14] == 1 and mask[10, 24] == 0
    assert seq.extra["anchors"].tolist() == [1, 0, 0, 0, -1]


def test_vot_malformed_region(tmp_path):
    fb.write_vot2018(tmp_path)
    anno = tmp_path / "ants1" / "groundtruth.txt"
    lines = anno.read_text().splitlines()
    lines[1] = "1,2,3,4,5"
    anno.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnnotationError, match=r"groundtruth.txt:2: expected a rectangle"):
        load_dataset("vot2018", root=tmp_path).sequence("ants1")


def test_rle_trailing_run_optional():
    assert RleMask(0, 0, 3, 2, (1, 2)).crop().tolist() == [[0, 1, 1], [0, 0, 0]]
    assert np.isnan(RleMask(0, 0, 0, 0, (0,)).bbox()).all()


# --- synthetic ----------------------------------------------------------------------------------
def test_synthetic_reader_and_attributes(tmp_path):
    gt = fb.write_synthetic_split(tmp_path, "test")
    ds = load_dataset("synthetic", root=tmp_path)
    assert ds.sequence_names() == ["syn_0001", "syn_0002", "syn_0003"]
    seq = ds.sequence("syn_0002")
    np.testing.assert_allclose(seq.ground_truth, gt["syn_0002"])
    assert seq.attributes == ["scale"]
    assert ds.subset("occlusion").sequence_names() == ["syn_0001", "syn_0003"]
    assert set(ds.attribute_names) == {"occlusion", "fast_motion", "scale"}
    with pytest.raises(KeyError, match="unknown attribute"):
        ds.subset("nope")


# --- annotations only (analysis of downloaded results without the frames) --------------------------
WRITERS = {"otb": (fb.write_otb, None), "lasot": (fb.write_lasot, None), "got10k": (fb.write_got10k, "val"),
           "trackingnet": (fb.write_trackingnet, None), "uav": (fb.write_uav, None), "nfs": (fb.write_nfs, "30"),
           "vot2018": (fb.write_vot2018, None), "vot2020": (fb.write_vot2020, None)}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_annotations_alone_are_enough_for_a_frames_optional_view(tmp_path, name):
    writer, split = WRITERS[name]
    written = writer(tmp_path) if split is None or name == "nfs" else writer(tmp_path, split=split)
    names = [n for n in load_dataset(name, split=split, root=tmp_path).sequence_names() if n in written]
    with_frames = {s.name: s for s in load_dataset(name, split=split, root=tmp_path).select(names)}
    for image in [p for p in tmp_path.rglob("*") if p.suffix in (".jpg", ".png")]:
        image.unlink()
    dataset = load_dataset(name, split=split, root=tmp_path).select(names)
    with pytest.raises(MissingFileError):
        list(dataset)
    if name == "trackingnet":  # TEST has only the first box: its length is in the frames alone
        with pytest.raises(MissingFileError, match="only the first box"):
            list(dataset.without_frames())
        return
    for seq in dataset.without_frames():
        assert seq.extra["frames_missing"]
        assert len(seq) == len(with_frames[seq.name]) == len(seq.ground_truth)
        np.testing.assert_array_equal(seq.ground_truth, with_frames[seq.name].ground_truth)


# --- LaSOT extension, TNL2K, TC128, AVisT, VOT2022 ----------------------------------------------
def test_new_benchmarks_are_registered_with_their_protocols():
    from pytracking.analysis.protocols import DEFAULT_PROTOCOL
    from pytracking.evaluation.vot_runner import vot_kind

    expected = {"lasot_ext": "lasot", "tnl2k": "lasot", "tc128": "otb", "avist": "otb", "vot2022": "vot2020"}
    assert set(EVAL_DATASETS.names()) >= set(expected)
    assert {k: DEFAULT_PROTOCOL[k] for k in expected} == expected
    assert vot_kind("vot2022") == "multistart" and vot_kind("tnl2k") is None


def test_lasot_extension_finds_its_class_folders(tmp_path):
    from pytracking.evaluation.datasets.lasot_ext import CLASSES

    gt = fb.write_lasot_ext(tmp_path)
    data = load_dataset("lasot_ext", root=tmp_path)
    assert data.sequence_names() == ["atv-2", "atv-10", "wingsuit-1"]
    seq = data.sequence("atv-10")
    np.testing.assert_allclose(seq.ground_truth, gt["atv-10"])
    assert seq.target_visible.tolist() == [True, True, False, True, True, False, True, True]
    assert seq.object_class == "atv" and seq.frames[0].endswith("atv/atv-10/img/00000001.jpg")
    assert len(CLASSES) == 15 and "atv" in CLASSES and "airplane" not in CLASSES


def test_tnl2k_frames_in_numeric_order_and_language(tmp_path):
    gt = fb.write_tnl2k(tmp_path)
    data = load_dataset("tnl2k", root=tmp_path)
    assert data.sequence_names() == ["Arrow_video_01", "BatMan_video_10-Done"]
    bat = data.sequence("BatMan_video_10-Done")
    assert [Path(f).name for f in bat.frames[8:]] == ["img9.jpg", "img10.jpg", "img11.jpg"]
    np.testing.assert_allclose(bat.ground_truth, gt["BatMan_video_10-Done"])
    arrow = data.sequence("Arrow_video_01")
    assert arrow.frames[0].endswith("imgs/00001.png") and arrow.extra["language"] == "the arrow flying left"
    (tmp_path / "Arrow_video_01" / "imgs" / "00006.png").unlink()
    with pytest.raises(AnnotationError, match="groundtruth.txt"):
        data.sequence("Arrow_video_01")


def test_tc128_frame_range_and_annotation_name(tmp_path):
    gt = fb.write_tc128(tmp_path)
    data = load_dataset("tc128", root=tmp_path)
    assert data.sequence_names() == ["Airport_ce", "Yo_yos_ce3"]
    yoyo = data.sequence("Yo_yos_ce3")
    assert [Path(f).name for f in yoyo.frames] == [f"{n:04d}.jpg" for n in range(3, 9)]
    np.testing.assert_allclose(yoyo.ground_truth, gt["Yo_yos_ce3"])
    np.testing.assert_allclose(data.sequence("Airport_ce").ground_truth, gt["Airport_ce"])
    (tmp_path / "Airport_ce" / "Airport_ce_frames.txt").write_text("1,9\n")
    with pytest.raises(AnnotationError, match="Airport_ce_gt.txt"):
        data.sequence("Airport_ce")
    (tmp_path / "Airport_ce" / "Airport_ce_frames.txt").unlink()
    with pytest.raises(MissingFileError, match=r"\*_frames.txt"):
        data.sequence("Airport_ce")


def test_avist_visibility_from_both_flag_folders(tmp_path):
    gt = fb.write_avist(tmp_path)
    data = load_dataset("avist", root=tmp_path)
    assert data.sequence_names() == ["airplane_in_rain", "black_cat_1"]
    seq = data.sequence("black_cat_1")
    np.testing.assert_allclose(seq.ground_truth, gt["black_cat_1"])
    assert seq.target_visible.tolist() == [True, True, False, True, False, True, True]
    assert seq.frames[-1].endswith("sequences/black_cat_1/img_00007.jpg")
    (tmp_path / "out_of_view" / "black_cat_1_out_of_view.txt").write_text("0,1\n")
    with pytest.raises(AnnotationError, match="black_cat_1_out_of_view.txt: 2 flags for 7 frames"):
        data.sequence("black_cat_1")


def test_vot2022_masks_rectangles_and_anchors(tmp_path):
    gt = fb.write_vot2022(tmp_path)
    data = load_dataset("vot2022", root=tmp_path)
    assert data.sequence_names() == ["agility", "bag"]
    masks = data.sequence("agility")
    assert isinstance(masks.regions[0], RleMask)
    np.testing.assert_allclose(masks.ground_truth, gt["agility"])
    bag = data.sequence("bag")
    np.testing.assert_allclose(bag.ground_truth, gt["bag"])
    assert bag.extra["anchors"].tolist() == [1, 0, 0, 1, -1] and bag.dataset == "vot2022"


def test_new_benchmark_experiments_load_and_score_with_their_protocols(tmp_path):
    from pytracking.analysis import analyze
    from pytracking.analysis.protocols import DEFAULT_PROTOCOL
    from pytracking.evaluation.experiment import load_experiment

    for name in ("lasot_ext", "tnl2k", "tc128", "avist", "vot2022"):
        assert load_experiment(name).dataset.name == name
    writers = {"tc128": fb.write_tc128, "avist": fb.write_avist, "lasot_ext": fb.write_lasot_ext}
    scores = {}
    for name, write in writers.items():
        write(tmp_path / name)
        sequences = list(load_dataset(name, root=tmp_path / name))
        report = analyze(DEFAULT_PROTOCOL[name], sequences, {"GT": {s.name: s.ground_truth for s in sequences}})
        scores[name] = report.results[0].scores
    # a perfect tracker passes every IoU threshold but 1.0: 20 of the 21 (x100 in pytracking's units)
    assert scores["tc128"]["AUC"] == pytest.approx(100 * 20 / 21)
    assert scores["avist"]["AUC"] == pytest.approx(100 * 20 / 21) and scores["avist"]["OP75"] == pytest.approx(100)
    # LaSOT's toolkit: the 2 absent of 8 frames count as failures in every sequence
    assert scores["lasot_ext"]["AUC"] == pytest.approx(100 * 20 / 21 * 6 / 8)
    assert scores["lasot_ext"]["Precision"] == pytest.approx(100 * 6 / 8)
