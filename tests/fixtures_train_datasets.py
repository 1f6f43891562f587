"""Writers of tiny training datasets in each dataset's exact on-disk layout (specs/formats.md).

Each ``write_*`` function creates the files under ``root`` and returns what it wrote (names,
boxes, flags, masks) so tests can compare a loader's output with the truth. Frames are small
JPEGs whose colour encodes (sequence, frame), so a frame read from the wrong file shows.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
import pytest
from PIL import Image

FRAME_HW = (24, 32)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user paths file, no dataset roots from the environment, a workspace in tmp
    (autouse in every test module that imports it)."""
    for key in list(os.environ):
        if key.startswith("PYTRACKING_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTRACKING_PATHS", str(tmp_path / "no-paths.yaml"))
    monkeypatch.setenv("PYTRACKING_WORKSPACE", str(tmp_path / "workspace"))


def edit_json(path: Path, change: Callable[[Any], None]) -> Path:
    """Apply ``change`` to the JSON document at ``path`` in place; returns ``path``."""
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return path


def mask_box(mask: np.ndarray) -> list[float]:
    """x, y, w, h of a mask's set pixels, written out independently of the product's box code."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return [cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1]


def check_visible_boxes(sequence, label: str) -> int:
    """Assert a generated sequence's box equals its rendered mask's extent on every frame where
    the target is fully visible; returns how many frames were checked."""
    geometry = sequence.geometry
    frames = np.flatnonzero(geometry.visible_pixels == geometry.full_pixels)
    for i in frames:
        _, mask = sequence.render_frame(int(i))
        assert mask_box(mask) == geometry.boxes[i].tolist(), f"{label} frame {i}"
    return len(frames)

GOT10K_META = """[METAINFO]
url: https://youtu.be/P-fKM-2DHoM
begin: 00:00:01
end: 00:00:10
anno_fps: 10Hz
object_class: {cls}
motion_class: swimming
major_class: invertebrate
root_class: animal
motion_adverb: slowly
resolution: (1920, 1080)
"""


def frame_image(seq: int, frame: int, hw: tuple[int, int] = FRAME_HW) -> np.ndarray:
    """An RGB frame whose flat colour identifies ``(seq, frame)`` after JPEG round trips."""
    image = np.empty((*hw, 3), np.uint8)
    image[...] = ((seq * 40) % 256, (frame * 20) % 256, 128)
    return image


def write_jpeg(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def write_got10k_train(root: Path, num_seqs: int = 4, num_frames: int = 6, images: bool = True, seed: int = 0) -> dict:
    """``root/train/{list.txt, GOT-10k_Train_00000k/...}``; frame 1 of every sequence is absent."""
    rng = _rng(seed)
    train = root / "train"
    train.mkdir(parents=True, exist_ok=True)
    names = [f"GOT-10k_Train_{i:06d}" for i in range(1, num_seqs + 1)]
    truth = {"names": names, "bbox": {}, "absence": {}, "cover": {}, "class": {}}
    for s, name in enumerate(names):
        folder = train / name
        folder.mkdir()
        boxes = np.round(rng.uniform(1, 20, size=(num_frames, 4)), 4).astype(np.float32)
        absence = np.zeros(num_frames, np.int32)
        absence[1] = 1
        boxes[1] = -1
        cover = rng.integers(1, 9, size=num_frames).astype(np.int32)
        cover[1] = 0
        cover[-1] = 0  # present but fully covered: not visible
        (folder / "groundtruth.txt").write_text("\n".join(",".join(f"{v:.4f}" for v in row) for row in boxes) + "\n")
        (folder / "absence.label").write_text("\n".join(map(str, absence)) + "\n")
        (folder / "cover.label").write_text("\n".join(map(str, cover)) + "\n")
        (folder / "cut_by_image.label").write_text("\n".join("0" for _ in range(num_frames)) + "\n")
        cls = f"class{s % 2}"
        (folder / "meta_info.ini").write_text(GOT10K_META.format(cls=cls))
        if images:
            for f in range(num_frames):
                write_jpeg(folder / f"{f + 1:08d}.jpg", frame_image(s, f))
        truth["bbox"][name], truth["absence"][name], truth["cover"][name] = boxes, absence, cover
        truth["class"][name] = cls
    (train / "list.txt").write_text("\n".join(names) + "\n")
    return truth


def write_lasot(
    root: Path,
    classes: tuple[str, ...] = ("airplane", "basketball"),
    per_class: int = 3,
    num_frames: int = 5,
    testing: tuple[str, ...] = ("airplane-3", "basketball-3"),
    training_list: bool = True,
    seed: int = 1,
) -> dict:
    """``root/<class>/<class>-<n>/...`` plus ``testing_set.txt`` (and ``training_set.txt``)."""
    rng = _rng(seed)
    truth = {"names": [], "bbox": {}, "visible": {}}
    for c, cls in enumerate(classes):
        for n in range(1, per_class + 1):
            name = f"{cls}-{n}"
            folder = root / cls / name
            (folder / "img").mkdir(parents=True)
            boxes = rng.integers(1, 30, size=(num_frames, 4)).astype(np.float32)
            occlusion = np.zeros(num_frames, np.int32)
            out_of_view = np.zeros(num_frames, np.int32)
            occlusion[1], out_of_view[2] = 1, 1
            boxes[2] = (1, 1, -1, -1)
            (folder / "groundtruth.txt").write_text("\n".join(",".join(str(int(v)) for v in r) for r in boxes) + "\n")
            (folder / "full_occlusion.txt").write_text(",".join(map(str, occlusion)))
            (folder / "out_of_view.txt").write_text(",".join(map(str, out_of_view)))
            (folder / "nlp.txt").write_text(f"the {cls} in the middle")
            for f in range(num_frames):
                write_jpeg(folder / "img" / f"{f + 1:08d}.jpg", frame_image(c * per_class + n, f))
            truth["bbox"][name] = boxes
            truth["visible"][name] = (occlusion == 0) & (out_of_view == 0)
            if name not in testing:
                truth["names"].append(name)
    (root / "testing_set.txt").write_text("\n".join(testing))  # the toolkit's copy: no final newline
    if training_list:
        (root / "training_set.txt").write_text("\n".join(truth["names"]))
    return truth


def write_trackingnet(root: Path, set_ids: tuple[int, ...] = (0, 1), per_set: int = 2, num_frames: int = 12, seed: int = 2) -> dict:
    """``root/TRAIN_<i>/{anno/<seq>.txt, frames/<seq>/0.jpg ...}`` with CRLF, space-padded annos."""
    rng = _rng(seed)
    truth = {"names": [], "bbox": {}, "set_id": {}}
    k = 0
    for set_id in set_ids:
        for j in range(per_set):
            name = f"-{set_id}Ab_c{j}x_{j + 1}"  # names may start with '-' and contain '_'
            boxes = np.round(rng.uniform(0, 99, size=(num_frames, 4)), 2).astype(np.float32)
            anno = root / f"TRAIN_{set_id}" / "anno" / f"{name}.txt"
            anno.parent.mkdir(parents=True, exist_ok=True)
            anno.write_bytes("".join(",".join(f"{v:6.2f}" for v in row) + "\r\n" for row in boxes).encode())
            for f in range(num_frames):
                write_jpeg(root / f"TRAIN_{set_id}" / "frames" / name / f"{f}.jpg", frame_image(k, f))
            truth["names"].append(name)
            truth["bbox"][name], truth["set_id"][name] = boxes, set_id
            k += 1
    return truth


def _rle_counts(mask: np.ndarray) -> list[int]:
    """Uncompressed COCO RLE counts: column-major runs starting with zeros."""
    flat = mask.flatten(order="F").astype(np.uint8)
    counts, current, run = [], 0, 0
    for value in flat:
        if value == current:
            run += 1
        else:
            counts.append(run)
            current, run = value, 1
    counts.append(run)
    return counts


def write_coco(root: Path, images_layout: bool = False, hw: tuple[int, int] = (40, 60)) -> dict:
    """``annotations/instances_train2017.json`` and ``train2017/`` (or ``images/train2017/``).

    Two images; polygon instances (sequences), one RLE crowd instance and one zero-width
    instance (both skipped). Returns the kept annotations in file order.
    """
    h, w = hw
    image_dir = root / ("images/train2017" if images_layout else "train2017")
    images = []
    for i, img_id in enumerate((9, 139)):
        file_name = f"{img_id:012d}.jpg"
        write_jpeg(image_dir / file_name, frame_image(i, 0, hw))
        images.append({"id": img_id, "file_name": file_name, "width": w, "height": h, "license": 1,
                       "coco_url": "", "flickr_url": "", "date_captured": ""})
    crowd = np.zeros(hw, np.uint8)
    crowd[5:15, 30:50] = 1

    def poly(x0, y0, x1, y1):
        return [[x0, y0, x1, y0, x1, y1, x0, y1]]

    anns = [
        {"id": 101, "image_id": 9, "category_id": 18, "segmentation": poly(10, 5, 30, 25), "area": 400.0,
         "bbox": [10.0, 5.0, 20.0, 20.0], "iscrowd": 0},
        {"id": 102, "image_id": 9, "category_id": 1, "segmentation": {"counts": _rle_counts(crowd), "size": [h, w]},
         "area": float(crowd.sum()), "bbox": [30.0, 5.0, 20.0, 10.0], "iscrowd": 1},
        {"id": 103, "image_id": 139, "category_id": 1, "segmentation": poly(2, 3, 12, 33), "area": 300.0,
         "bbox": [2.0, 3.0, 10.0, 30.0], "iscrowd": 0},
        {"id": 104, "image_id": 139, "category_id": 18, "segmentation": poly(40, 10, 40, 20), "area": 0.0,
         "bbox": [40.0, 10.0, 0.0, 10.0], "iscrowd": 0},
        {"id": 105, "image_id": 139, "category_id": 90, "segmentation": poly(35, 20, 55, 38), "area": 360.0,
         "bbox": [35.0, 20.0, 20.0, 18.0], "iscrowd": 0},
    ]
    categories = [{"id": 1, "name": "person", "supercategory": "person"},
                  {"id": 18, "name": "dog", "supercategory": "animal"},
                  {"id": 90, "name": "toothbrush", "supercategory": "indoor"}]
    doc = {"info": {"year": 2017}, "licenses": [], "images": images, "annotations": anns, "categories": categories}
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / "instances_train2017.json").write_text(json.dumps(doc))
    kept = [a for a in anns if not a["iscrowd"] and a["bbox"][2] > 0 and a["bbox"][3] > 0]
    return {"anns": kept, "crowd": crowd, "categories": {c["id"]: c["name"] for c in categories}, "image_dir": image_dir}


def davis_palette() -> list[int]:
    """The DAVIS / PASCAL VOC colour map (what YouTube-VOS PNGs carry)."""
    palette = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def write_palette_png(path: Path, plane: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(plane.astype(np.uint8), mode="P")
    img.putpalette(davis_palette())
    img.save(path)


def write_youtubevos(root: Path, hw: tuple[int, int] = FRAME_HW, all_frames: bool = True) -> dict:
    """``train/{JPEGImages,Annotations}/<video>/00000.* 00005.* ...`` and ``train/meta.json``.

    Video ``0a1b2c3d4e`` has objects "1" (frames 0-15) and "3" (appears at frame 5, so object
    ids are not contiguous); video ``ffee001122`` has object "2" with an empty mask at frame 10.
    Returns ``{"planes": {video: {frame: plane}}, "objects": {video: {obj: frames}}, ...}``.
    """
    videos = {
        "0a1b2c3d4e": {"1": ("person", [0, 5, 10, 15]), "3": ("dog", [5, 10, 15])},
        "ffee001122": {"2": ("cat", [0, 5, 10])},
    }
    planes: dict[str, dict[int, np.ndarray]] = {}
    meta = {"videos": {}}
    for v, (video, objects) in enumerate(videos.items()):
        numbers = sorted({f for _, frames in objects.values() for f in frames})
        planes[video] = {}
        for k, number in enumerate(numbers):
            plane = np.zeros(hw, np.uint8)
            for obj, (_, frames) in objects.items():
                if number in frames and not (video == "ffee001122" and number == 10):
                    oid = int(obj)
                    y0, x0 = 2 + oid + k, 3 * oid + k
                    plane[y0 : y0 + 4 + oid, x0 : x0 + 5 + k] = oid
            planes[video][number] = plane
            write_palette_png(root / "train" / "Annotations" / video / f"{number:05d}.png", plane)
            write_jpeg(root / "train" / "JPEGImages" / video / f"{number:05d}.jpg", frame_image(v, number, hw))
        if all_frames:
            for number in range(numbers[-1] + 1):
                write_jpeg(root / "train_all_frames" / "JPEGImages" / video / f"{number:05d}.jpg", frame_image(v, number, hw))
        meta["videos"][video] = {
            "objects": {obj: {"category": cat, "frames": [f"{f:05d}" for f in frames]} for obj, (cat, frames) in objects.items()}
        }
    (root / "train" / "meta.json").write_text(json.dumps(meta))
    return {"planes": planes, "objects": {v: {o: f for o, (_, f) in objs.items()} for v, objs in videos.items()},
            "categories": {v: {o: c for o, (c, _) in objs.items()} for v, objs in videos.items()}}
