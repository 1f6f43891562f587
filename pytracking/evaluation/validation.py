"""The checks every evaluation dataset's sequences pass before a tracker or a metric sees them.

One place, shared by all loaders (:meth:`EvalDataset.sequence` calls :func:`validate_sequence`):

* frames and ground truth have one row per frame (loaders also check this with the file name);
* a stated image size (GOT-10k ``meta_info.ini`` ``resolution``, VOT ``sequence`` width/height)
  must be the first frame's real size: the GOT-10k protocol clips boxes to it, so a wrong value
  changes AO silently. Error naming the frame and the stated size;
* a ground-truth value that is infinite or beyond ``±MAX_COORDINATE`` is an error naming the row
  (NaN is an unknown box, left to the protocol);
* ground-truth boxes with a zero or negative width or height are **reported**, not changed:
  benchmarks mark absent targets so (GOT-10k ``-1,-1,-1,-1``, LaSOT ``1,1,-1,-1`` / ``1,1,0,0``;
  ``specs/formats.md``) and each protocol has its own rule for them. They are listed in
  ``sequence.extra["gt_invalid_rows"]`` (0-based) and, when they fall on frames the benchmark
  calls visible (or has no visibility for), logged as a warning naming the file and first row;
* the initial box (row 0) must be finite, have a positive size and overlap the first frame:
  a tracker started from anything else tracks nonsense, so the runner refuses the sequence.

Frame numbering gaps and sequence-name problems (duplicates, ``..``, separators, an empty list)
are caught where the names and frames are read (``annotations.numbered_frames`` /
``annotations.read_name_list`` and :func:`ltr.admin.names.check_names`).
"""
from __future__ import annotations

import logging

import numpy as np

from ltr.data.image_io import image_size
from pytracking.evaluation.annotations import MAX_COORDINATE, AnnotationError
from pytracking.evaluation.sequence import Sequence

logger = logging.getLogger(__name__)


def _where(seq: Sequence) -> str:
    source = seq.extra.get("groundtruth_file")
    return str(source) if source else f"sequence '{seq.name}' of dataset '{seq.dataset}'"


def validate_sequence(seq: Sequence, frames_on_disk: bool = True) -> Sequence:
    """Check ``seq`` (see the module docstring); returns it, with ``extra["gt_invalid_rows"]`` set.
    Without ``frames_on_disk`` (analysis from annotations alone) the image-size checks are skipped."""
    gt = seq.ground_truth
    if len(gt) != len(seq.frames):
        raise AnnotationError(f"{_where(seq)}: {len(gt)} ground-truth rows for {len(seq.frames)} frames")
    if not seq.frames:
        raise AnnotationError(f"{_where(seq)}: sequence has no frames")
    beyond = np.isinf(gt) | (np.abs(np.nan_to_num(gt, nan=0.0)) > MAX_COORDINATE)
    if beyond.any():
        row = int(np.flatnonzero(beyond.any(axis=1))[0])
        raise AnnotationError(f"{_where(seq)}: row {row + 1}: ground-truth box {gt[row].tolist()} has a value that "
                              f"is infinite or beyond ±{MAX_COORDINATE:g} px (NaN marks an unknown box)")
    known = np.isfinite(gt).all(axis=1)
    invalid = known & ((gt[:, 2] <= 0) | (gt[:, 3] <= 0))
    seq.extra["gt_invalid_rows"] = np.flatnonzero(invalid).tolist()
    visible = invalid if seq.target_visible is None else invalid & seq.target_visible
    if visible.any():
        rows = np.flatnonzero(visible)
        logger.warning("%s: %d ground-truth boxes of visible-target frames have a zero or negative width or height "
                       "(first: row %d, %s); they are kept and scored by the protocol's rule", _where(seq),
                       rows.size, int(rows[0]) + 1, gt[rows[0]].tolist())
    if not frames_on_disk:
        return seq
    width, height = image_size(seq.frames[0])
    if seq.image_size is not None and tuple(int(v) for v in seq.image_size) != (width, height):
        stated = seq.extra.get("image_size_source", "the dataset")
        raise AnnotationError(f"{stated}: states image size {tuple(seq.image_size)}, but {seq.frames[0]} is "
                              f"{width}x{height}; correct the stated size")
    check_initial_box(gt[0], width, height, _where(seq))
    return seq


def check_initial_box(box: np.ndarray, width: int, height: int, where: str) -> None:
    """The first-frame box must be finite, have a positive size and overlap the ``width x height`` frame."""
    box = np.asarray(box, dtype=np.float64)
    if box.shape != (4,) or not np.isfinite(box).all():
        raise AnnotationError(f"{where}: row 1: initial box {box.tolist()} is not 4 finite numbers")
    x, y, w, h = box
    if w <= 0 or h <= 0:
        raise AnnotationError(f"{where}: row 1: initial box {box.tolist()} has no positive size")
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise AnnotationError(f"{where}: row 1: initial box {box.tolist()} lies outside the "
                              f"{width}x{height} first frame")
