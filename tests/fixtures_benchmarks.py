"""Writers of tiny benchmarks in each benchmark's exact on-disk layout, quirks included (formats.md).

Shared by the evaluation and analysis tests. Every ``write_*`` function takes the dataset root,
writes small JPEGs and annotation files there, and returns ``{sequence: ground truth}`` (the
``N x 4`` ``x, y, w, h`` boxes a correct reader must return, NaN where the benchmark gives none).
Images are one shared encoded JPEG written many times, so even long OTB/UAV ranges are fast.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import cv2
import numpy as np

from pytracking.evaluation.datasets.base import package_data

IMAGE_SIZE = (64, 48)  # W, H: big enough for OpenCV's MIL tracker around a 16x12 box


@functools.lru_cache(maxsize=8)
def jpeg_bytes(width: int = IMAGE_SIZE[0], height: int = IMAGE_SIZE[1], seed: int = 0) -> bytes:
    """A small textured JPEG (textured so trackers have something to follow)."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    return buf.tobytes()


def write_frames(folder: Path, numbers: range | list[int], pattern: str = "{:08d}.jpg") -> list[Path]:
    """Write one JPEG per frame number with names from ``pattern``."""
    folder.mkdir(parents=True, exist_ok=True)
    data = jpeg_bytes()
    paths = [folder / pattern.format(n) for n in numbers]
    for p in paths:
        p.write_bytes(data)
    return paths


def boxes(n: int, offset: float = 0.0) -> np.ndarray:
    """Deterministic moving boxes ``x, y, w, h`` with non-integer values inside a 64x48 image."""
    i = np.arange(n, dtype=np.float64)
    return np.stack([10 + offset + (i % 20) * 0.5, 8 + (i % 10) * 0.25, 16 + 0 * i, 12 + 0 * i], axis=1)


def _write(path: Path, text: str, newline: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline=newline) as f:
        f.write(text)


def _rows(gt: np.ndarray, sep: str = ",", fmt: str = "{:g}") -> str:
    return "".join(sep.join(fmt.format(v) for v in row) + "\n" for row in gt)


# --- OTB100 -----------------------------------------------------------------------------------
OTB_QUIRKY = ("Board", "BlurCar3", "David", "Diving", "Tiger1", "Jogging_1", "Jogging_2", "Human4_2", "Deer")


def write_otb(root: Path, names: tuple[str, ...] = OTB_QUIRKY) -> dict[str, np.ndarray]:
    """OTB folders with real frame ranges: Board 5 digits, BlurCar3 starts at 0003, David's images
    0001-0770 with GT for 0300-0770, Diving's extra images, two-target Jogging, Human4's empty
    ``.1`` file, tab/comma/space delimiters (BlurCar3 mixes a space row into tabs).

    Returns the full per-file GT (before Tiger1's ``initOmit``) by sequence name.
    """
    table = package_data("otb100.json")["sequences"]
    out = {}
    for k, name in enumerate(names):
        info = table[name]
        folder = root / info["folder"]
        digits, start, end = info["digits"], info["start_frame"], info["end_frame"]
        first_image = start if name.startswith("BlurCar") else 1
        last_image = {"David": 770, "Diving": 231}.get(name, end)
        write_frames(folder / "img", range(first_image, last_image + 1), f"{{:0{digits}d}}.jpg")
        gt = boxes(end - start + 1, offset=k)
        sep = "\t" if name in ("Board", "BlurCar3") else ("," if k % 2 else " ")
        text = _rows(gt, sep)
        if name == "BlurCar3":
            lines = text.splitlines(keepends=True)
            lines[3] = lines[3].replace("\t", " ")
            text = "".join(lines)
        _write(folder / info["anno"], text)
        if name == "Human4_2":
            _write(folder / "groundtruth_rect.1.txt", "")
        out[name] = gt
    return out


# --- LaSOT ------------------------------------------------------------------------------------
def write_lasot(root: Path, names: tuple[str, ...] = ("airplane-1", "airplane-2", "bird-3"),
                test: tuple[str, ...] = ("airplane-1", "bird-3"), frames: int = 8) -> dict[str, np.ndarray]:
    """LaSOT class folders, integer GT with arbitrary boxes on invisible frames (``1,1,-1,-1``),
    single-line flag files, ``nlp.txt``, and ``testing_set.txt`` without a trailing newline."""
    out = {}
    for k, name in enumerate(names):
        folder = root / name[: name.rfind("-")] / name
        write_frames(folder / "img", range(1, frames + 1))
        gt = np.round(boxes(frames, offset=k))
        occluded = np.zeros(frames, int)
        out_of_view = np.zeros(frames, int)
        occluded[2] = 1
        out_of_view[5] = 1
        gt[2] = [1, 1, -1, -1]
        gt[5] = [613, 731, 247, -11]
        _write(folder / "groundtruth.txt", _rows(gt, ",", "{:.0f}"))
        _write(folder / "full_occlusion.txt", ",".join(map(str, occluded)) + "\n")
        _write(folder / "out_of_view.txt", ",".join(map(str, out_of_view)) + "\n")
        _write(folder / "nlp.txt", f"the {name} in the sky\n")
        out[name] = gt
    _write(root / "testing_set.txt", "\n".join(test))
    _write(root / "training_set.txt", "\n".join(n for n in names if n not in test) + "\n")
    return out


# --- GOT-10k (and the synthetic benchmark) ----------------------------------------------------
META_INFO = """[METAINFO]
url: https://youtu.be/P-fKM-2DHoM
begin: 00:00:01
end: 00:00:10
anno_fps: 10Hz
object_class: ctenophore
motion_class: swimming
major_class: invertebrate
root_class: animal
motion_adverb: slowly
resolution: (64, 48)
"""


def write_got10k(root: Path, split: str = "val", names: tuple[str, ...] | None = None, frames: int = 6,
                 full_gt: bool | None = None) -> dict[str, np.ndarray]:
    """``<root>/<split>/`` with ``list.txt``; test gets only the first GT line and no labels
    (``full_gt`` forces either). Absent frames are ``-1,-1,-1,-1`` with ``absence=1``, ``cover=0``."""
    names = names or tuple(f"GOT-10k_{split.capitalize()}_{i:06d}" for i in (1, 2, 3))
    full_gt = split != "test" if full_gt is None else full_gt
    out = {}
    for k, name in enumerate(names):
        folder = root / split / name
        write_frames(folder, range(1, frames + 1))
        gt = boxes(frames, offset=k)
        if full_gt:
            gt[frames - 2] = -1
            _write(folder / "groundtruth.txt", _rows(gt, ",", "{:.4f}"))
            absence = (gt[:, 2] < 0).astype(int)
            cover = np.where(absence, 0, 8 - np.arange(frames) % 3)
            _write(folder / "absence.label", "".join(f"{v}\n" for v in absence))
            _write(folder / "cover.label", "".join(f"{v}\n" for v in cover))
            _write(folder / "cut_by_image.label", "".join("0\n" for _ in range(frames)))
            _write(folder / "meta_info.ini", META_INFO)
            out[name] = gt
        else:
            _write(folder / "groundtruth.txt", _rows(gt[:1], ",", "{:.4f}"))
            out[name] = np.vstack([gt[:1], np.full((frames - 1, 4), np.nan)])
    _write(root / split / "list.txt", "\n".join(names) + "\n")
    return out


def write_synthetic_split(root: Path, split: str = "test", frames: int = 12,
                          tags: dict[str, list[str]] | None = None) -> dict[str, np.ndarray]:
    """A synthetic-benchmark split: GOT-10k layout with full GT on every split plus ``attributes.json``."""
    tags = tags or {"syn_0001": ["occlusion", "fast_motion"], "syn_0002": ["scale"], "syn_0003": ["occlusion"]}
    gt = write_got10k(root, split, tuple(tags), frames, full_gt=True)
    _write(root / split / "attributes.json", json.dumps(tags))
    return gt


# --- TrackingNet ------------------------------------------------------------------------------
def write_trackingnet(root: Path, names: tuple[str, ...] = ("-3TIfnTSM6c_2", "a_b_c_0"),
                      frames: int = 12) -> dict[str, np.ndarray]:
    """``TEST/anno/<seq>.txt`` with only frame 1, CRLF and space-padded ``%.2f``; frames
    ``0.jpg .. 11.jpg`` unpadded (so a lexical sort would put ``10.jpg`` before ``2.jpg``)."""
    out = {}
    for k, name in enumerate(names):
        write_frames(root / "TEST" / "frames" / name, range(frames), "{:d}.jpg")
        first = boxes(1, offset=k + 0.125)
        _write(root / "TEST" / "anno" / f"{name}.txt", ",".join(f"{v:6.2f}" for v in first[0]) + "\r\n", newline="")
        out[name] = np.vstack([np.round(first, 2), np.full((frames - 1, 4), np.nan)])
    return out


# --- UAV123 -----------------------------------------------------------------------------------
def write_uav(root: Path, names: tuple[str, ...] = ("uav6", "truck4_1", "truck4_2")) -> dict[str, np.ndarray]:
    """``data_seq/UAV123/<folder>/%06d.jpg`` covering the ranges (truck4_1/_2 share a folder and
    frame 577), ``anno/UAV123/<seq>.txt`` with ``NaN,NaN,NaN,NaN`` rows, and one attribute file."""
    table = package_data("uav123.json")["UAV123"]
    out = {}
    for k, name in enumerate(names):
        info = table[name]
        write_frames(root / "data_seq" / "UAV123" / info["folder"],
                     range(info["start_frame"], info["end_frame"] + 1), "{:06d}.jpg")
        gt = np.round(boxes(info["end_frame"] - info["start_frame"] + 1, offset=k))
        gt[3] = np.nan
        _write(root / "anno" / "UAV123" / f"{name}.txt",
               _rows(gt, ",", "{:.0f}").replace("nan", "NaN"))
        out[name] = gt
    _write(root / "anno" / "UAV123" / "att" / f"{names[0]}.txt", "1,0,0,1,0,0,0,0,0,0,0,1\n")
    return out


# --- NfS --------------------------------------------------------------------------------------
def write_nfs(root: Path, names: tuple[str, ...] = ("Gymnastics", "ball"), frames30: int = 5,
              short_by_one: tuple[str, ...] = ("Gymnastics",)) -> dict[str, dict[str, np.ndarray]]:
    """Official layout: ``<seq>/30/<seq>/%05d.jpg``, ``<seq>/240/<seq>/%05d.jpg`` and the 240 fps
    VATIC file (corners, quoted label, extra attribute column) in both folders; sequences in
    ``short_by_one`` have one annotation row fewer than frames. Returns ``{seq: {"30": gt, "240": gt}}``."""
    out = {}
    for k, name in enumerate(names):
        n240 = 8 * frames30
        rows = n240 - 1 if name in short_by_one else n240
        gt = boxes(rows, offset=k).round()
        lines = [f"1 {x:.0f} {y:.0f} {x + w:.0f} {y + h:.0f} {i + 1} {int(i == 4)} {int(i == 5)} 0 \"ball\" 1\n"
                 for i, (x, y, w, h) in enumerate(gt)]
        for fps, count in (("30", frames30), ("240", n240)):
            write_frames(root / name / fps / name, range(1, count + 1), "{:05d}.jpg")
            _write(root / name / fps / f"{name}.txt", "".join(lines))
        out[name] = {"30": gt[0::8][:frames30], "240": gt}
    return out


# --- VOT --------------------------------------------------------------------------------------
def _vot_sequence(root: Path, name: str, lines: list[str], frames: int) -> None:
    folder = root / name
    write_frames(folder / "color", range(1, frames + 1))
    _write(folder / "groundtruth.txt", "".join(line + "\n" for line in lines))
    _write(folder / "sequence", f"channels.color=color/%08d.jpg\nformat=default\nfps=30\nname={name}\n"
                                f"width={IMAGE_SIZE[0]}\nheight={IMAGE_SIZE[1]}\n")
    _write(folder / "occlusion.tag", "0\n1\n")  # shorter than the sequence: padded with 0
    _write(folder / "camera_motion.tag", "")


def write_vot2018(root: Path, frames: int = 5) -> dict[str, np.ndarray]:
    """``list.txt``, a polygon sequence and a rectangle sequence (``conduction1`` style)."""
    out = {}
    poly, rect = [], []
    for i in range(frames):
        x, y = 10 + i, 8 + 0.5 * i
        poly.append(f"{x:.2f},{y + 4:.2f},{x + 12:.2f},{y:.2f},{x + 16:.2f},{y + 8:.2f},{x + 4:.2f},{y + 12:.2f}")
        rect.append(f"{x:.2f},{y:.2f},16.00,12.00")
    _vot_sequence(root, "ants1", poly, frames)
    _vot_sequence(root, "conduction1", rect, frames)
    _write(root / "list.txt", "ants1\nconduction1\n")
    i = np.arange(frames)
    out["ants1"] = np.stack([10 + i, 8 + 0.5 * i, 16 + 0 * i, 12 + 0 * i], axis=1).astype(float)
    out["conduction1"] = np.stack([10 + i, 8 + 0.5 * i, 16 + 0 * i, 12 + 0 * i], axis=1).astype(float)
    return out


def rle_line(mask: np.ndarray) -> str:
    """VOT2020 ``m x0,y0,w,h,runs`` of a binary mask (crop to its box, zeros first, trailing run kept)."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return "m0,0,0,0,0"
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    flat = mask[y0:y1, x0:x1].reshape(-1).astype(int)
    runs, current, count = [], 0, 0
    for v in flat:
        if v == current:
            count += 1
        else:
            runs.append(count)
            current, count = v, 1
    runs.append(count)
    return f"m{x0},{y0},{x1 - x0},{y1 - y0}," + ",".join(map(str, runs))


def write_vot2020(root: Path, frames: int = 5) -> dict[str, np.ndarray]:
    """One mask sequence (an L-shaped target moving right) with ``anchor.value``; returns mask boxes."""
    w, h = IMAGE_SIZE
    lines, gt = [], []
    for i in range(frames):
        mask = np.zeros((h, w), np.uint8)
        mask[10:22, 12 + i:20 + i] = 1
        mask[18:22, 20 + i:28 + i] = 1
        lines.append(rle_line(mask))
        gt.append([12 + i, 10, 16, 12])
    _vot_sequence(root, "agility", lines, frames)
    _write(root / "agility" / "anchor.value", "1\n" + "0\n" * (frames - 2) + "-1\n")
    _write(root / "list.txt", "agility\n")
    return {"agility": np.asarray(gt, dtype=float)}


# --- LaSOT extension, TNL2K, TC128, AVisT, VOT2022 ----------------------------------------------
def write_lasot_ext(root: Path) -> dict[str, np.ndarray]:
    """LaSOT_ext: LaSOT's class folders (no list file; ``atv-10`` sorts after ``atv-2``) and a stray
    folder without ground truth, which is not a sequence."""
    gt = write_lasot(root, names=("atv-10", "atv-2", "wingsuit-1"), test=())
    (root / "atv" / "notes").mkdir()
    (root / "testing_set.txt").unlink()
    (root / "training_set.txt").unlink()
    return gt


def write_tnl2k(root: Path, frames: int = 6) -> dict[str, np.ndarray]:
    """TNL2K: ``imgs/`` with ``.png`` frames in one sequence and ``img<N>.jpg`` (not zero-padded, so
    ``img10`` must follow ``img9``) in another; comma GT with an all-zero (absent) row; ``language.txt``."""
    out = {}
    for k, (name, pattern, count) in enumerate((("Arrow_video_01", "{:05d}.png", frames),
                                                ("BatMan_video_10-Done", "img{}.jpg", 11))):
        write_frames(root / name / "imgs", range(1, count + 1), pattern)
        gt = np.round(boxes(count, offset=k), 2)
        gt[3] = 0
        _write(root / name / "groundtruth.txt", _rows(gt, ","))
        _write(root / name / "language.txt", f"the {name.split('_')[0].lower()} flying left\n")
        out[name] = gt
    return out


def write_tc128(root: Path) -> dict[str, np.ndarray]:
    """TColor-128: ``img/%04d.jpg`` with more frames than annotated, a ``first,last`` frames file
    (``3,8``), an annotation named unlike its folder (``Yo-yos_ce3`` in ``Yo_yos_ce3``) and one
    whitespace-delimited file."""
    out = {}
    for name, anno, (first, last), sep in (("Yo_yos_ce3", "Yo-yos_ce3", (3, 8), ","),
                                           ("Airport_ce", "Airport_ce", (1, 5), "\t")):
        write_frames(root / name / "img", range(1, 11), "{:04d}.jpg")
        gt = np.round(boxes(last - first + 1, offset=first), 2)
        _write(root / name / f"{anno}_gt.txt", _rows(gt, sep))
        _write(root / name / f"{anno}_frames.txt", f"{first},{last}\n")
        out[name] = gt
    return out


def write_avist(root: Path, frames: int = 7) -> dict[str, np.ndarray]:
    """AVisT: ``anno/<seq>.txt``, comma flag files in ``full_occlusion/`` and ``out_of_view/``, frames
    ``sequences/<seq>/img_%05d.jpg``; frame 3 occluded, frame 5 out of view."""
    out = {}
    for k, name in enumerate(("airplane_in_rain", "black_cat_1")):
        write_frames(root / "sequences" / name, range(1, frames + 1), "img_{:05d}.jpg")
        gt = np.round(boxes(frames, offset=k), 2)
        _write(root / "anno" / f"{name}.txt", _rows(gt, ","))
        occluded, out_of_view = np.zeros(frames, int), np.zeros(frames, int)
        occluded[2], out_of_view[4] = 1, 1
        _write(root / "full_occlusion" / f"{name}_full_occlusion.txt", ",".join(map(str, occluded)) + "\n")
        _write(root / "out_of_view" / f"{name}_out_of_view.txt", ",".join(map(str, out_of_view)) + "\n")
        out[name] = gt
    return out


def write_vot2022(root: Path, frames: int = 5) -> dict[str, np.ndarray]:
    """VOT2022 short-term: the segmentation stack's mask sequence (as VOT2020) plus a box-stack
    rectangle sequence, both with ``anchor.value``."""
    out = write_vot2020(root, frames)
    rect = [f"{10 + i:.2f},{8 + 0.5 * i:.2f},16.00,12.00" for i in range(frames)]
    _vot_sequence(root, "bag", rect, frames)
    _write(root / "bag" / "anchor.value", "1\n" + "0\n" * (frames - 3) + "1\n-1\n")
    _write(root / "list.txt", "agility\nbag\n")
    i = np.arange(frames)
    out["bag"] = np.stack([10 + i, 8 + 0.5 * i, 16 + 0 * i, 12 + 0 * i], axis=1).astype(float)
    return out
