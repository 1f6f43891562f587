"""Training datasets read their real layouts; the index cache and the LMDB frame store behave."""
from __future__ import annotations

from pathlib import Path

import fixtures_train_datasets
import numpy as np
import pytest
import torch
from fixtures_train_datasets import (
    frame_image,
    write_coco,
    write_got10k_train,
    write_lasot,
    write_trackingnet,
    write_youtubevos,
)
from pycocotools import mask as mask_utils

from ltr.admin.paths import MissingPathError
from ltr.data.image_io import ImageReadError, imread
from ltr.dataset import build_lmdb
from ltr.dataset.base import TRAIN_DATASETS
from ltr.dataset.coco import MSCOCOSeq
from ltr.dataset import got10k as got10k_module
from ltr.dataset.got10k import GOT10k, in_val_split, read_meta_info, read_split_file
from ltr.dataset.index_cache import IndexCache
from ltr.dataset.lasot import Lasot
from ltr.dataset.text_io import AnnotationError, read_table
from ltr.dataset.trackingnet import TrackingNet
from ltr.dataset.youtubevos import YouTubeVOS

isolated = fixtures_train_datasets.isolated  # the shared autouse fixture: no user paths, a tmp workspace


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with its size and mtime (to prove nothing was written there)."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def assert_frame_is(frame: np.ndarray, seq: int, frame_no: int) -> None:
    expected = frame_image(seq, frame_no, frame.shape[:2]).astype(int)
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert np.abs(frame.astype(int) - expected).max() <= 3


# -- registry and paths ----------------------------------------------------------------------
def test_registry_lists_every_dataset():
    assert {"got10k", "lasot", "trackingnet", "coco", "youtubevos"} <= set(TRAIN_DATASETS.names())


@pytest.mark.parametrize("key", ["got10k", "lasot", "trackingnet", "coco", "youtubevos"])
def test_missing_root_names_the_key(key):
    with pytest.raises(MissingPathError, match=f"PYTRACKING_{key.upper()}_ROOT") as err:
        TRAIN_DATASETS.build(key)
    assert f"'{key}'" in str(err.value)


def test_root_from_paths_config(tmp_path, monkeypatch):
    root = tmp_path / "GOT-10k"
    write_got10k_train(root, images=False)
    monkeypatch.setenv("PYTRACKING_GOT10K_ROOT", str(root))
    assert TRAIN_DATASETS.build("got10k").get_num_sequences() == 4


# -- GOT-10k ---------------------------------------------------------------------------------
def test_got10k_boxes_visibility_and_meta(tmp_path):
    root = tmp_path / "GOT-10k"
    truth = write_got10k_train(root)
    ds = GOT10k(root)
    assert ds.get_num_sequences() == 4 and ds.is_video_sequence() and not ds.has_masks()
    for i, name in enumerate(truth["names"]):
        assert ds.get_sequence_name(i) == name
        info = ds.get_sequence_info(i)
        np.testing.assert_allclose(info["bbox"].numpy(), truth["bbox"][name], atol=1e-4)
        assert info["bbox"].dtype == torch.float32
        absent, cover = truth["absence"][name], truth["cover"][name]
        assert info["valid"].tolist() == [i != 1 for i in range(6)]
        assert info["visible"].tolist() == ((absent == 0) & (cover > 0)).tolist()
        np.testing.assert_allclose(info["visible_ratio"].numpy(), cover / 8)
    frames, anno, meta = ds.get_frames(2, [0, 3])
    assert_frame_is(frames[0], 2, 0) and assert_frame_is(frames[1], 2, 3)
    np.testing.assert_array_equal(frames[1], imread(root / "train" / truth["names"][2] / "00000004.jpg"))
    np.testing.assert_allclose(anno["bbox"][1].numpy(), truth["bbox"][truth["names"][2]][3], atol=1e-4)
    assert meta["object_class_name"] == "class0" and meta["motion_adverb"] == "slowly"
    assert meta["major_class"] == "invertebrate" and meta["sequence"] == truth["names"][2]


def test_got10k_root_may_be_the_train_folder(tmp_path):
    write_got10k_train(tmp_path / "GOT-10k")
    ds = GOT10k(tmp_path / "GOT-10k" / "train")
    assert ds.get_num_sequences() == 4
    assert_frame_is(ds.get_frames(1, [5])[0][0], 1, 5)


def test_got10k_meta_info_by_key_and_by_position(tmp_path):
    keyed = tmp_path / "a.ini"
    keyed.write_text("[METAINFO]\nobject_class: ship\nmotion_class: sailing\n")
    assert read_meta_info(keyed)["object_class_name"] == "ship"
    assert read_meta_info(keyed)["root_class"] is None
    positional = tmp_path / "b.ini"
    positional.write_text("[METAINFO]\r\nurl: x\r\nbegin: 1\r\nend: 2\r\nanno_fps: 10Hz\r\n"
                          "cls: kite\r\nmotion: flying\r\nmajor: object\r\nroot: thing\r\nadverb: fast\r\n")
    meta = read_meta_info(positional)
    assert meta == {"object_class_name": "kite", "motion_class": "flying", "major_class": "object",
                    "root_class": "thing", "motion_adverb": "fast"}
    assert set(read_meta_info(tmp_path / "missing.ini").values()) == {None}


def test_got10k_splits(tmp_path, monkeypatch):
    root = tmp_path / "GOT-10k"
    truth = write_got10k_train(root, num_seqs=30, num_frames=2, images=False)
    full = GOT10k(root)
    tr, va = GOT10k(root, split="train_split"), GOT10k(root, split="val_split")
    tr_names = [tr.get_sequence_name(i) for i in range(len(tr))]
    va_names = [va.get_sequence_name(i) for i in range(len(va))]
    assert len(full) == 30 and len(tr) + len(va) == 30 and not set(tr_names) & set(va_names)
    assert va_names == [n for n in truth["names"] if in_val_split(n)] and va_names
    split_file = tmp_path / "mine.txt"
    split_file.write_text(f"3\n0\n{truth['names'][7]}\n")
    mine = GOT10k(root, split_file=split_file)
    assert [mine.get_sequence_name(i) for i in range(3)] == [truth["names"][3], truth["names"][0], truth["names"][7]]
    np.testing.assert_allclose(mine.get_sequence_info(0)["bbox"].numpy(), truth["bbox"][truth["names"][3]], atol=1e-4)
    with pytest.raises(ValueError, match="got10k_vot_train_split.txt:[0-9]+: position"):
        GOT10k(root, split="vottrain")  # the shipped list names positions a 30-sequence tree lacks
    missing = tmp_path / "absent" / "got10k_vot_train_split.txt"
    monkeypatch.setitem(got10k_module.SPLIT_FILES, "vottrain", missing)
    with pytest.raises(FileNotFoundError, match="absent/got10k_vot_train_split.txt"):
        GOT10k(root, split="vottrain")
    split_file.write_text("GOT-10k_Train_999999\n")
    with pytest.raises(ValueError, match="GOT-10k_Train_999999"):
        GOT10k(root, split_file=split_file)
    with pytest.raises(ValueError, match="unknown GOT-10k split"):
        GOT10k(root, split="val")


def test_shipped_got10k_vot_lists_are_pytrackings():
    """The shipped vottrain / votval lists: pytracking's sizes, disjoint, inside list.txt's 9,335
    positions, and read the way pytracking reads them (position 0 = GOT-10k_Train_000001)."""
    names = [f"GOT-10k_Train_{i + 1:06d}" for i in range(9335)]
    train = read_split_file(got10k_module.SPLIT_FILES["vottrain"], names)
    val = read_split_file(got10k_module.SPLIT_FILES["votval"], names)
    assert (len(train), len(val)) == (7086, 1249)
    assert len(set(train)) == len(train) and len(set(val)) == len(val) and not set(train) & set(val)
    raw_first = int(got10k_module.SPLIT_FILES["vottrain"].read_text().split()[0])
    assert train[0] == names[raw_first]
    assert len(set(train) | set(val)) == 8335  # 1,000 sequences overlap VOT and are left out


def test_got10k_bad_label_file_is_named(tmp_path):
    root = tmp_path / "GOT-10k"
    truth = write_got10k_train(root, num_seqs=2, images=False)
    bad = root / "train" / truth["names"][1] / "cover.label"
    bad.write_text("8\n8\n")
    with pytest.raises(AnnotationError, match=f"{bad}: 2 entries, but the ground truth has 6 frames"):
        GOT10k(root)


def test_box_table_errors_name_file_and_line(tmp_path):
    path = tmp_path / "groundtruth.txt"
    path.write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(AnnotationError, match=f"{path}:2: expected 4 values"):
        read_table(path, 4)
    path.write_text("1,2,3,4\n1,x,3,4\n")
    with pytest.raises(AnnotationError, match=f"{path}:2: not a number: 'x'"):
        read_table(path, 4)
    path.write_text(" 1.00, 2.00,NaN,4\r\n\r\n5\t6 7,8\r\n")
    np.testing.assert_array_equal(read_table(path, 4)[1], [5, 6, 7, 8])


# -- LaSOT -----------------------------------------------------------------------------------
def test_lasot_training_protocol_and_flags(tmp_path):
    root = tmp_path / "LaSOT"
    truth = write_lasot(root)
    ds = Lasot(root)
    names = [ds.get_sequence_name(i) for i in range(len(ds))]
    assert names == truth["names"] == ["airplane-1", "airplane-2", "basketball-1", "basketball-2"]
    info = ds.get_sequence_info(2)
    np.testing.assert_array_equal(info["bbox"].numpy(), truth["bbox"]["basketball-1"])
    assert info["visible"].tolist() == [True, False, False, True, True]
    assert info["valid"].tolist() == [True, True, False, True, True]
    frames, _, meta = ds.get_frames(2, [4])
    assert_frame_is(frames[0], 1 * 3 + 1, 4)
    assert meta == {"sequence": "basketball-1", "object_class_name": "basketball"}


def test_lasot_without_training_list_uses_all_but_testing(tmp_path):
    root = tmp_path / "LaSOT"
    truth = write_lasot(root, per_class=11, num_frames=3, testing=("airplane-10",), training_list=False)
    names = [Lasot(root).get_sequence_name(i) for i in range(21)]
    assert len(Lasot(root)) == 21 and "airplane-10" not in names
    assert names[:3] == ["airplane-1", "airplane-2", "airplane-3"] and names[9] == "airplane-11"
    assert sorted(names) == sorted(truth["names"])


# -- TrackingNet -----------------------------------------------------------------------------
def test_trackingnet_chunks_crlf_annos_and_numeric_frames(tmp_path):
    root = tmp_path / "TrackingNet"
    truth = write_trackingnet(root, set_ids=(0, 1, 2))
    ds = TrackingNet(root, set_ids=[0, 2])
    names = [ds.get_sequence_name(i) for i in range(len(ds))]
    assert sorted(names) == sorted(n for n in truth["names"] if truth["set_id"][n] in (0, 2))
    for i, name in enumerate(names):
        np.testing.assert_allclose(ds.get_sequence_info(i)["bbox"].numpy(), truth["bbox"][name], atol=1e-5)
        assert ds.get_num_frames(i) == 12
    k = truth["names"].index(names[1])
    frames, _, meta = ds.get_frames(1, [9, 10, 11, 2])
    for frame, number in zip(frames, [9, 10, 11, 2]):
        assert_frame_is(frame, k, number)
    assert meta["set_id"] == truth["set_id"][names[1]]
    with pytest.raises(MissingPathError, match="TRAIN_5"):
        TrackingNet(root)
    with pytest.raises(IndexError, match="frame ids \\[12\\]"):
        ds.get_frames(0, [12])


# -- COCO ------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools.*")
@pytest.mark.parametrize("images_layout", [False, True], ids=["train2017", "images-train2017"])
def test_coco_instances_as_one_frame_sequences(tmp_path, images_layout):
    root = tmp_path / "COCO"
    truth = write_coco(root, images_layout=images_layout)
    ds = MSCOCOSeq(root)
    assert not ds.is_video_sequence() and ds.has_masks()
    assert len(ds) == len(truth["anns"]) == 3  # the crowd and the zero-width instance are skipped
    for i, ann in enumerate(truth["anns"]):
        info = ds.get_sequence_info(i)
        np.testing.assert_array_equal(info["bbox"].numpy(), [ann["bbox"]])
        assert info["valid"].tolist() == [True] and ds.get_num_frames(i) == 1
        frames, anno, meta = ds.get_frames(i, [0])
        image = root / ("images/train2017" if images_layout else "train2017") / f"{ann['image_id']:012d}.jpg"
        np.testing.assert_array_equal(frames[0], imread(image))
        mask = anno["mask"][0]
        reference = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(ann["segmentation"], 40, 60)))
        assert mask.dtype == np.uint8 and mask.shape == (40, 60) and set(np.unique(mask)) <= {0, 1}
        np.testing.assert_array_equal(mask, reference)
        x, y, w, h = (int(v) for v in ann["bbox"])
        assert mask[y + 1 : y + h - 1, x + 1 : x + w - 1].all() and mask.sum() <= (w + 1) * (h + 1)
        assert meta["object_class_name"] == truth["categories"][ann["category_id"]]


# -- YouTube-VOS -----------------------------------------------------------------------------
def boxes_from_planes(planes: dict[int, np.ndarray], obj: int, frames: list[int]) -> np.ndarray:
    out = []
    for f in frames:
        ys, xs = np.nonzero(planes[f] == obj)
        out.append([xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1] if len(xs) else [0, 0, 0, 0])
    return np.array(out, np.float32)


def test_youtubevos_per_object_sequences_boxes_and_palette_masks(tmp_path):
    root = tmp_path / "YouTube-VOS"
    truth = write_youtubevos(root)
    ds = YouTubeVOS(root)
    assert ds.has_masks() and len(ds) == 3
    assert [ds.get_sequence_name(i) for i in range(3)] == ["0a1b2c3d4e_1", "0a1b2c3d4e_3", "ffee001122_2"]
    for i, (video, obj) in enumerate([("0a1b2c3d4e", "1"), ("0a1b2c3d4e", "3"), ("ffee001122", "2")]):
        frames_no = truth["objects"][video][obj]
        planes = truth["planes"][video]
        info = ds.get_sequence_info(i)
        np.testing.assert_array_equal(info["bbox"].numpy(), boxes_from_planes(planes, int(obj), frames_no))
        frames, anno, meta = ds.get_frames(i, list(range(len(frames_no))))
        for k, number in enumerate(frames_no):
            # the mask selects exactly this object's palette index: ids survive decoding
            np.testing.assert_array_equal(anno["mask"][k], (planes[number] == int(obj)).astype(np.uint8))
            assert_frame_is(frames[k], list(truth["planes"]).index(video), number)
        assert meta["object_class_name"] == truth["categories"][video][obj] and meta["object_id"] == obj
    assert ds.get_sequence_info(2)["valid"].tolist() == [True, True, False]  # empty mask at 00010
    assert ds.get_sequence_info(1)["valid"].tolist() == [True, True, True]  # object 3 starts at 00005


def test_youtubevos_all_frames(tmp_path):
    root = tmp_path / "YouTube-VOS"
    truth = write_youtubevos(root)
    ds = YouTubeVOS(root, all_frames=True)
    assert ds.get_num_frames(1) == 11  # object 3: frames 5..15
    info = ds.get_sequence_info(1)
    assert info["valid"].tolist() == [k % 5 == 0 for k in range(11)]
    frames, anno, _ = ds.get_frames(1, [5, 0])
    assert_frame_is(frames[0], 0, 10) and assert_frame_is(frames[1], 0, 5)
    np.testing.assert_array_equal(anno["mask"][0], (truth["planes"]["0a1b2c3d4e"][10] == 3))
    with pytest.raises(ValueError, match="00008 has no mask"):
        ds.get_frames(1, [3])


# -- index cache -----------------------------------------------------------------------------
def test_index_cache_hit_miss_invalidation_and_clean_dataset_folder(tmp_path):
    root = tmp_path / "GOT-10k"
    write_got10k_train(root, images=False)
    before = tree(root)
    first = GOT10k(root)
    second = GOT10k(root, split="val_split")
    assert not first.index_from_cache and second.index_from_cache
    cache_files = list((tmp_path / "workspace" / "cache" / "dataset_index").glob("got10k-*.npz"))
    assert len(cache_files) == 1
    assert tree(root) == before  # nothing written into the dataset folder
    list_file = root / "train" / "list.txt"
    names = list_file.read_text().split()
    list_file.write_text("\n".join(names[:3]) + "\n")
    third = GOT10k(root)
    assert not third.index_from_cache and len(third) == 3
    assert GOT10k(root).index_from_cache
    assert len(list((tmp_path / "workspace" / "cache" / "dataset_index").glob("*"))) == 1  # no temp files left


def test_index_cache_survives_a_corrupt_file_and_can_be_disabled(tmp_path):
    root = tmp_path / "GOT-10k"
    write_got10k_train(root, images=False)
    cache_dir = tmp_path / "elsewhere"
    GOT10k(root, cache_dir=cache_dir)
    (cache_file,) = (cache_dir / "dataset_index").glob("*.npz")
    cache_file.write_bytes(b"not a zip")
    ds = GOT10k(root, cache_dir=cache_dir)
    assert not ds.index_from_cache and len(ds) == 4
    assert GOT10k(root, cache_dir=cache_dir).index_from_cache
    GOT10k(root, cache=False)
    assert not (tmp_path / "workspace").exists()


def test_cached_index_equals_fresh_index(tmp_path):
    root = tmp_path / "YouTube-VOS"
    write_youtubevos(root, all_frames=False)
    fresh, cached = YouTubeVOS(root), YouTubeVOS(root)
    assert cached.index_from_cache
    for i in range(len(fresh)):
        for key, value in fresh.get_sequence_info(i).items():
            torch.testing.assert_close(cached.get_sequence_info(i)[key], value, equal_nan=True)
    assert cached.get_frames(0, [1])[2] == fresh.get_frames(0, [1])[2]


def test_cache_key_depends_on_root_and_params(tmp_path):
    cache = IndexCache(tmp_path)
    assert cache.path_for("x", tmp_path / "a", {}) != cache.path_for("x", tmp_path / "b", {})
    assert cache.path_for("x", tmp_path / "a", {"set_ids": [0]}) != cache.path_for("x", tmp_path / "a", {})


# -- corrupt frames --------------------------------------------------------------------------
def test_corrupt_frame_raises_naming_the_file(tmp_path):
    root = tmp_path / "GOT-10k"
    truth = write_got10k_train(root, num_seqs=1)
    bad = root / "train" / truth["names"][0] / "00000003.jpg"
    bad.write_bytes(bad.read_bytes()[:100])
    ds = GOT10k(root)
    with pytest.raises(ImageReadError, match=str(bad)):
        ds.get_frames(0, [0, 2])
    (root / "train" / truth["names"][0] / "00000004.jpg").unlink()
    with pytest.raises(ImageReadError, match="00000004.jpg: file not found"):
        ds.get_frames(0, [3])


# -- LMDB frame store ------------------------------------------------------------------------
def test_lmdb_store_returns_the_same_frames_and_masks(tmp_path, capsys):
    pytest.importorskip("lmdb")
    got, vos, out = tmp_path / "GOT-10k", tmp_path / "YouTube-VOS", tmp_path / "packed"
    write_got10k_train(got, num_seqs=2)
    write_youtubevos(vos, all_frames=False)
    before = tree(got)
    assert build_lmdb.main([str(got), "--out", str(out), "--quiet"]) == 0
    assert build_lmdb.main([str(vos), "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.strip().endswith(".lmdb")
    assert tree(got) == before and not [p for p in out.iterdir() if p.name.startswith(".")]
    files, packed = GOT10k(got), GOT10k(got, frame_store="lmdb", lmdb_dir=out)
    assert packed.store.meta()["files"] == 12
    for seq in range(2):
        a, anno_a, meta_a = files.get_frames(seq, [0, 4, 5])
        b, anno_b, meta_b = packed.get_frames(seq, [0, 4, 5])
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
        assert meta_a == meta_b
    vos_files, vos_packed = YouTubeVOS(vos), YouTubeVOS(vos, frame_store="lmdb", lmdb_dir=out)
    a, anno_a, _ = vos_files.get_frames(1, [0, 2])
    b, anno_b, _ = vos_packed.get_frames(1, [0, 2])
    for x, y in zip(a + anno_a["mask"], b + anno_b["mask"]):
        np.testing.assert_array_equal(x, y)


def test_lmdb_store_errors(tmp_path, monkeypatch):
    pytest.importorskip("lmdb")
    import lmdb

    root, out = tmp_path / "GOT-10k", tmp_path / "packed"
    truth = write_got10k_train(root, num_seqs=1)
    with pytest.raises(MissingPathError, match="python -m ltr.dataset.build_lmdb"):
        GOT10k(root, frame_store="lmdb", lmdb_dir=out)
    assert build_lmdb.main([str(root), "--out", str(out), "--quiet"]) == 0
    (path,) = out.glob("*.lmdb")
    key = f"train/{truth['names'][0]}/00000002.jpg"
    env = lmdb.open(str(path), subdir=False, lock=False)
    with env.begin(write=True) as txn:
        txn.put(key.encode(), txn.get(key.encode())[:50])
        txn.delete(f"train/{truth['names'][0]}/00000003.jpg".encode())
    env.close()
    ds = GOT10k(root, frame_store="lmdb", lmdb_dir=out)
    with pytest.raises(ImageReadError, match=f"{path}::{key}: corrupt or truncated JPEG"):
        ds.get_frames(0, [1])
    with pytest.raises(ImageReadError, match="00000003.jpg: not in the LMDB"):
        ds.get_frames(0, [2])
    monkeypatch.setenv("PYTRACKING_WORKSPACE", str(tmp_path / "ws2"))
    assert build_lmdb.main(["lasot"]) == 2  # key without a configured path: a message, no traceback


def test_lmdb_backed_dataset_pickles_for_dataloader_workers(tmp_path):
    pytest.importorskip("lmdb")
    import pickle

    root, out = tmp_path / "GOT-10k", tmp_path / "packed"
    write_got10k_train(root, num_seqs=1)
    build_lmdb.main([str(root), "--out", str(out), "--quiet"])
    ds = GOT10k(root, frame_store="lmdb", lmdb_dir=out)
    first = ds.get_frames(0, [0])[0][0]
    clone = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(clone.get_frames(0, [0])[0][0], first)


def test_nonexistent_root_is_named(tmp_path):
    with pytest.raises(MissingPathError, match="nowhere is not a folder"):
        Lasot(tmp_path / "nowhere")
