"""Hostile annotation input to the training datasets: each case is an error naming the file (and
line or annotation id), never a silently wrong label, box or mask, nor a deep library error."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import fixtures_train_datasets
import numpy as np
import pytest
from fixtures_train_datasets import (
    edit_json,
    write_coco,
    write_got10k_train,
    write_lasot,
    write_trackingnet,
    write_youtubevos,
)
from PIL import Image
from pycocotools import mask as mask_utils

from ltr.dataset.coco import MSCOCOSeq
from ltr.dataset.got10k import GOT10k
from ltr.dataset.lasot import Lasot
from ltr.dataset.text_io import AnnotationError, read_flags, read_table
from ltr.dataset.trackingnet import TrackingNet
from ltr.dataset.youtubevos import YouTubeVOS

isolated = fixtures_train_datasets.isolated  # the shared autouse fixture: no user paths, a tmp workspace

COCO_FILE = r"instances_train2017\.json"


# -- text tables and label files ---------------------------------------------------------------
def test_ragged_lines_with_the_right_total_are_refused(tmp_path):
    path = tmp_path / "groundtruth.txt"
    path.write_text("1,2,3\n4,5,6,7,8\n")
    with pytest.raises(AnnotationError, match=f"{path}:1: expected 4 values, found 3"):
        read_table(path, 4)


@pytest.mark.parametrize("value", ["0.5", "nan", "inf", "1e20", "-1", "2"])
def test_flags_other_than_0_1_are_refused_naming_the_line(tmp_path, value):
    path = tmp_path / "absence.label"
    path.write_text(f"0\n{value}\n1\n")
    with pytest.raises(AnnotationError, match=f"{path}:2: expected an integer label in 0..1"):
        read_flags(path)


@pytest.mark.parametrize("label_file, text, problem", [
    ("cover.label", "8\n0\n9\n8\n8\n0\n", "expected an integer label in 0..8, found 9"),
    ("absence.label", "0\n1\n0.5\n0\n0\n0\n", "expected an integer label in 0..1, found 0.5"),
])
def test_got10k_labels_outside_their_range_are_refused(tmp_path, label_file, text, problem):
    root = tmp_path / "GOT-10k"
    truth = write_got10k_train(root, num_seqs=2, images=False)
    path = root / "train" / truth["names"][1] / label_file
    path.write_text(text)
    with pytest.raises(AnnotationError, match=f"{path}:3: {problem}"):
        GOT10k(root, cache=False)


@pytest.mark.parametrize("flag_file", ["out_of_view.txt", "full_occlusion.txt"])
def test_lasot_negative_flag_is_refused(tmp_path, flag_file):
    root = tmp_path / "LaSOT"
    write_lasot(root)
    path = root / "airplane" / "airplane-2" / flag_file
    path.write_text("0,0,-1,0,0")
    with pytest.raises(AnnotationError, match=f"{path}:1: expected an integer label in 0..1, found -1"):
        Lasot(root, cache=False)


# -- empty annotation files and empty datasets ----------------------------------------------------
def test_empty_groundtruth_is_refused_in_every_video_dataset(tmp_path):
    got = tmp_path / "GOT-10k"
    names = write_got10k_train(got, num_seqs=2, images=False)["names"]
    for label in ("groundtruth.txt", "absence.label", "cover.label"):
        (got / "train" / names[0] / label).write_text("")
    with pytest.raises(AnnotationError, match=f"{got / 'train' / names[0] / 'groundtruth.txt'}: empty annotation file"):
        GOT10k(got, cache=False)
    lasot = tmp_path / "LaSOT"
    write_lasot(lasot)
    (lasot / "basketball" / "basketball-1" / "groundtruth.txt").write_text("\n")
    with pytest.raises(AnnotationError, match=r"basketball-1/groundtruth\.txt: empty annotation file"):
        Lasot(lasot, cache=False)
    tnet = tmp_path / "TrackingNet"
    truth = write_trackingnet(tnet, set_ids=(0,), num_frames=2)
    anno = tnet / "TRAIN_0" / "anno" / f"{truth['names'][1]}.txt"
    anno.write_text("\r\n")
    with pytest.raises(AnnotationError, match=f"{anno}: empty annotation file"):
        TrackingNet(tnet, set_ids=[0], cache=False)


def test_empty_list_files_are_refused_naming_them(tmp_path):
    got = tmp_path / "GOT-10k"
    write_got10k_train(got, num_seqs=2, images=False)
    (got / "train" / "list.txt").write_text("\n")
    with pytest.raises(AnnotationError, match=f"{got / 'train' / 'list.txt'}: lists no sequences"):
        GOT10k(got, cache=False)
    lasot = tmp_path / "LaSOT"
    write_lasot(lasot)
    (lasot / "training_set.txt").write_text("")
    with pytest.raises(AnnotationError, match=f"{lasot / 'training_set.txt'}: lists no sequences"):
        Lasot(lasot, cache=False)


def test_empty_split_file_and_empty_trackingnet_chunk_are_refused(tmp_path):
    got = tmp_path / "GOT-10k"
    write_got10k_train(got, num_seqs=2, images=False)
    split = tmp_path / "split.txt"
    split.write_text("")
    with pytest.raises(AnnotationError, match=f"{split}: selects no sequences"):
        GOT10k(got, split_file=split, cache=False)
    tnet = tmp_path / "TrackingNet"
    (tnet / "TRAIN_3" / "anno").mkdir(parents=True)
    with pytest.raises(AnnotationError, match=r"trackingnet: no sequences found under .*TRAIN_3/anno"):
        TrackingNet(tnet, set_ids=[3], cache=False)


def test_lasot_name_without_class_part_is_refused(tmp_path):
    root = tmp_path / "LaSOT"
    write_lasot(root)
    (root / "catfoo" / "catfoo").mkdir(parents=True)
    (root / "training_set.txt").write_text("airplane-1\ncatfoo\n")
    with pytest.raises(AnnotationError, match=r"training_set\.txt: sequence name 'catfoo' is not <class>-<number>"):
        Lasot(root, cache=False)


# -- YouTube-VOS ---------------------------------------------------------------------------------
def edit_meta(root: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """Apply ``change`` to ``train/meta.json`` and return its path."""
    return edit_json(root / "train" / "meta.json", change)


def add_object(obj_id: str, frames: list[str]) -> Callable[[dict[str, Any]], None]:
    """A meta.json change adding object ``obj_id`` to the first video."""
    return lambda meta: meta["videos"]["0a1b2c3d4e"]["objects"].update({obj_id: {"category": "x", "frames": frames}})


def add_frame(frame: str) -> Callable[[dict[str, Any]], None]:
    """A meta.json change adding frame name ``frame`` to object 1 of the first video."""
    return lambda meta: meta["videos"]["0a1b2c3d4e"]["objects"]["1"]["frames"].append(frame)


def add_video(name: str) -> Callable[[dict[str, Any]], None]:
    """A meta.json change adding a video called ``name``."""
    return lambda meta: meta["videos"].update({name: {"objects": {"1": {"category": "x", "frames": ["00000"]}}}})


@pytest.mark.parametrize(
    "change, problem",
    [
        (add_object("0", ["00005"]), r"video 0a1b2c3d4e: object id '0' is not a mask value 1\.\.255"),
        (add_object("300", ["00005"]), r"video 0a1b2c3d4e: object id '300' is not a mask value"),
        (add_object("a", ["00005"]), r"video 0a1b2c3d4e: object id 'a' is not a mask value"),
        (add_frame("\u00b2"), r"video 0a1b2c3d4e object 1: frame names \['\u00b2'\] are not five-digit"),
        (add_frame("99999995"), r"video 0a1b2c3d4e object 1: frame names \['99999995'\] are not five-digit"),
        (lambda meta: meta.update(videos=list(meta["videos"])), r"'videos' is a list, expected a mapping"),
        (add_video("../../../outside"), r"sequence name '\.\./\.\./\.\./outside' contains a path separator"),
    ],
    ids=["id0", "id300", "id-a", "superscript-frame", "8-digit-frame", "videos-list", "traversal"],
)
def test_youtubevos_bad_meta_json_is_refused_naming_it(tmp_path, change, problem):
    root = tmp_path / "YouTube-VOS"
    write_youtubevos(root, all_frames=False)
    path = edit_meta(root, change)
    with pytest.raises(AnnotationError, match=f"{path}: {problem}"):
        YouTubeVOS(root, cache=False)


def test_youtubevos_rgb_masks_are_refused_and_grayscale_index_masks_read(tmp_path):
    root = tmp_path / "YouTube-VOS"
    truth = write_youtubevos(root, all_frames=False)
    png = root / "train" / "Annotations" / "0a1b2c3d4e" / "00005.png"
    index_plane = truth["planes"]["0a1b2c3d4e"][5]
    Image.fromarray(index_plane, mode="L").save(png)
    ds = YouTubeVOS(root, cache=False)
    seq = [ds.get_sequence_name(i) for i in range(len(ds))].index("0a1b2c3d4e_3")
    np.testing.assert_array_equal(ds.get_frames(seq, [0])[1]["mask"][0], index_plane == 3)
    Image.fromarray(index_plane, mode="P").convert("RGB").save(png)
    with pytest.raises(AnnotationError, match=f"{png}: a mask in mode RGB; object masks must be palette"):
        YouTubeVOS(root, cache=False)


# -- COCO ----------------------------------------------------------------------------------------
def edit_coco(root: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the instances JSON written by ``write_coco``."""
    edit_json(root / "annotations" / "instances_train2017.json", change)


def set_ann(ann_id: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    """A change setting ``fields`` of annotation ``ann_id``."""
    return lambda doc: next(a for a in doc["annotations"] if a["id"] == ann_id).update(fields)


def set_image(image_id: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    """A change setting ``fields`` of image ``image_id``."""
    return lambda doc: next(i for i in doc["images"] if i["id"] == image_id).update(fields)


def compressed_rle(height: int, width: int, stated: list[int]) -> dict[str, Any]:
    """A valid compressed RLE of a ``height x width`` mask whose ``size`` claims ``stated``."""
    mask = np.zeros((height, width), np.uint8, order="F")
    mask[2:8, 3:9] = 1
    return {"counts": mask_utils.encode(mask)["counts"].decode(), "size": stated}


@pytest.mark.parametrize(
    "change, problem",
    [
        (set_ann(101, image_id=999), "annotation 101: image_id 999 is not in 'images'"),
        (set_ann(103, bbox=[2.0, 3.0, 10.0]), r"annotation 103: bbox \[2\.0, 3\.0, 10\.0\] is not four finite numbers"),
        (set_ann(103, bbox=["2", "3", "10", "30"]), "annotation 103: bbox .* is not four finite numbers"),
        (set_ann(105, category_id=77), "annotation 105: category_id 77 is not in 'categories'"),
        (set_ann(101, segmentation={"counts": [0, 5, 5], "size": [40, 60]}),
         r"annotation 101: RLE counts add up to 10, not height \* width = 2400"),
        (set_ann(101, segmentation={"counts": [0, 2400, 5], "size": [40, 60]}), r"annotation 101: RLE counts add up to 2405"),
        (set_ann(101, segmentation={"counts": [2400], "size": [30, 80]}),
         r"annotation 101: RLE size \[30, 80\] is not the image's \[height, width\] \[40, 60\]"),
        (set_ann(101, segmentation=compressed_rle(20, 60, [40, 60])), r"annotation 101: RLE counts add up to 1200"),
        (set_ann(101, segmentation=[[10, 5, 30, 5, 30]]), "annotation 101: polygon .* is not an even number"),
        (set_ann(101, segmentation=[[10, 5, "a", 5, 30, 25]]), "annotation 101: polygon .* is not an even number"),
        (set_ann(103, id=101), "annotation 101: the id is used by more than one annotation"),
        (set_image(139, file_name="../../outside.jpg"), r"image 139: file_name '\.\./\.\./outside\.jpg' is not a relative path"),
        (set_image(9, width="60"), "image 9: width '60' and height 40 are not positive integers"),
    ],
    ids=["image-999", "bbox-3", "bbox-str", "category", "rle-short", "rle-long", "rle-size", "rle-compressed",
         "polygon-odd", "polygon-str", "duplicate-id", "file-name-traversal", "width-str"],
)
def test_coco_bad_annotation_is_refused_at_index_build(tmp_path, change, problem):
    root = tmp_path / "COCO"
    write_coco(root)
    edit_coco(root, change)
    with pytest.raises(AnnotationError, match=f"{COCO_FILE}: {problem}"):
        MSCOCOSeq(root, cache=False)


@pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools.*")
@pytest.mark.parametrize("segmentation", [[], None, "missing"], ids=["empty", "null", "missing"])
def test_coco_annotation_without_segmentation_makes_a_box_only_dataset(tmp_path, caplog, segmentation):
    root = tmp_path / "COCO"
    write_coco(root)
    edit_coco(root, lambda doc: doc["annotations"][2].pop("segmentation") if segmentation == "missing"
              else doc["annotations"][2].update(segmentation=segmentation))
    ds = MSCOCOSeq(root, cache=False)
    assert len(ds) == 3 and not ds.has_masks()
    assert "annotation(s) have no segmentation (ids 103)" in caplog.text
    frames, anno, _ = ds.get_frames(1, [0])
    assert "mask" not in anno and anno["bbox"][0].tolist() == [2.0, 3.0, 10.0, 30.0]


def test_coco_image_size_differing_from_the_json_is_refused(tmp_path):
    root = tmp_path / "COCO"
    write_coco(root)
    edit_coco(root, set_image(9, width=600, height=400))
    ds = MSCOCOSeq(root, cache=False)
    with pytest.raises(AnnotationError, match=f"{COCO_FILE}: image 000000000009.jpg is 60x40 but the file states 600x400"):
        ds.get_frames(0, [0])
