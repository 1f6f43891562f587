"""Writes one synthetic sequence in the GOT-10k folder format (``specs/formats.md``).

Frames ``00000001.jpg`` ..., ``groundtruth.txt`` (``x,y,w,h``, 4 decimals, every frame),
``absence.label``, ``cover.label``, ``cut_by_image.label``, ``meta_info.ini`` in GOT-10k's exact
line order, plus the extra ``masks/00000001.png`` (0/255 visible-target masks).
"""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from ltr.dataset.synthetic.sequence import SyntheticSequence

ANNO_FPS = 10  # GOT-10k's annotation rate; sets the begin/end times in meta_info.ini


def frame_name(i: int, suffix: str = ".jpg") -> str:
    """File name of frame ``i`` (0-based): 8 digits, 1-based."""
    return f"{i + 1:08d}{suffix}"


def groundtruth_text(boxes: np.ndarray) -> str:
    """One ``x,y,w,h`` line per box with 4 decimals."""
    return "".join(f"{x:.4f},{y:.4f},{w:.4f},{h:.4f}\n" for x, y, w, h in boxes)


def labels_text(values: np.ndarray) -> str:
    """One integer per line."""
    return "".join(f"{int(v)}\n" for v in values)


def meta_info_text(sequence: SyntheticSequence) -> str:
    """``meta_info.ini`` with GOT-10k's keys in GOT-10k's order (readers index lines 5-9)."""
    meta = sequence.meta()
    seconds = math.ceil(len(sequence) / ANNO_FPS)
    lines = [
        "[METAINFO]",
        f"url: synthetic://seed/{sequence.seed}",
        "begin: 00:00:00",
        f"end: {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
        f"anno_fps: {ANNO_FPS}Hz",
        f"object_class: {meta['object_class']}",
        f"motion_class: {meta['motion_class']}",
        f"major_class: {meta['major_class']}",
        f"root_class: {meta['root_class']}",
        f"motion_adverb: {meta['motion_adverb']}",
        f"resolution: ({sequence.params.width}, {sequence.params.height})",
    ]
    return "\n".join(lines) + "\n"


def _encode(suffix: str, image: np.ndarray, options: list[int]) -> bytes:
    ok, buffer = cv2.imencode(suffix, image, options)
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {suffix} image")
    return buffer.tobytes()


def write_sequence(folder: Path, sequence: SyntheticSequence, jpeg_quality: int = 90) -> None:
    """Render every frame of ``sequence`` and write the GOT-10k files into ``folder`` (created)."""
    masks = folder / "masks"
    masks.mkdir(parents=True, exist_ok=True)
    jpeg_options = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
    png_options = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]  # 5x faster
    for i, (image, mask) in enumerate(sequence.frames()):
        (folder / frame_name(i)).write_bytes(_encode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), jpeg_options))
        (masks / frame_name(i, ".png")).write_bytes(_encode(".png", mask * 255, png_options))
    geometry = sequence.geometry
    (folder / "groundtruth.txt").write_text(groundtruth_text(geometry.boxes))
    (folder / "absence.label").write_text(labels_text(geometry.absent))
    (folder / "cover.label").write_text(labels_text(geometry.cover))
    (folder / "cut_by_image.label").write_text(labels_text(geometry.cut_by_image))
    (folder / "meta_info.ini").write_text(meta_info_text(sequence))
