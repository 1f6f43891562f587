"""Image preparation shared by the filter and the segmentation step: whole-pixel crops, tensors.

Both crops follow the official tracker: a whole-pixel window of the frame, padded by edge
replication where it leaves the frame, resized bilinearly.

* :func:`sample_target` (segmentation, ``ltr.data.processing_utils.sample_target`` of D3S/JCAT):
  side ``ceil(sqrt(w·h)·factor)``, origin ``round(centre − side/2)``. The official padding
  is off by one at the right and bottom edges (``x2_pad = x2 − W + 1``: the last image
  column/row is dropped and the one before is replicated); ``off_by_one`` keeps that.
* :func:`sample_patch` (filter, pytracking's ``sample_patch``): side ``round(s)``, window
  ``[⌊p⌋ − (side−1)//2, ⌊p⌋ + side//2]`` around the position ``p`` in pixel-index coordinates.

Coordinates here are continuous (pixel ``i`` covers ``[i, i+1)``); pixel-index coordinates
are continuous − 0.5. The returned :class:`~ltr.data.boxes.CropTransform` holds the window's
true origin, so crop coordinates map back exactly.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from ltr.data.boxes import CropTransform
from ltr.data.transforms import MAX_WINDOW_PIXELS
from ltr.models.backbone.pretrained import IMAGENET_MEAN, IMAGENET_STD


def cut_window(image: np.ndarray, x0: int, y0: int, side: int, replicate: bool = True,
               off_by_one: bool = False, value: float = 0) -> np.ndarray:
    """The ``side²`` window at ``(x0, y0)``; outside the image edge-replicated (or ``value``)."""
    height, width = image.shape[:2]
    x1, y1 = x0 + side, y0 + side
    extra = 1 if off_by_one else 0
    left, top = max(0, -x0), max(0, -y0)
    right, bottom = max(x1 - width + extra, 0), max(y1 - height + extra, 0)
    if left + right >= side or top + bottom >= side:  # no image pixel inside: nearest edge
        xs = np.clip(np.arange(x0, x1), 0, width - 1)
        ys = np.clip(np.arange(y0, y1), 0, height - 1)
        out = image[np.ix_(ys, xs)]
        return out if replicate else np.full_like(out, value)
    inner = image[y0 + top:y1 - bottom, x0 + left:x1 - right]
    border = cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT
    return cv2.copyMakeBorder(inner, top, bottom, left, right, border, value=value)


def resized_window(image: np.ndarray, x0: int, y0: int, side: int, output_size: int, replicate: bool = True,
                   off_by_one: bool = False, value: float = 0, as_float: bool = False) -> np.ndarray:
    """:func:`cut_window` resized bilinearly to ``output_size²`` (``as_float``: the window is made float32
    first). A window over ``MAX_WINDOW_PIXELS`` (a box far larger than the frame) is sampled from the
    frame by ``cv2.warpAffine`` with the same border rule instead: the same bilinear samples up to
    rounding, without allocating the padding."""
    if side * side <= MAX_WINDOW_PIXELS:
        window = cut_window(image, x0, y0, side, replicate, off_by_one, value)
        window = window.astype(np.float32, copy=False) if as_float else window
        return cv2.resize(window, (output_size, output_size), interpolation=cv2.INTER_LINEAR)
    image = image.astype(np.float32, copy=False) if as_float else image
    if off_by_one:  # the official padding treats the last column and row as outside
        image = image[: max(image.shape[0] - 1, 1), : max(image.shape[1] - 1, 1)]
    scale = side / output_size  # resize's sampling: source = (dest + 0.5) * scale - 0.5
    matrix = np.array([[scale, 0.0, x0 + 0.5 * scale - 0.5], [0.0, scale, y0 + 0.5 * scale - 0.5]])
    border = cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT
    return cv2.warpAffine(image, matrix, (output_size, output_size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=border, borderValue=value)


def sample_target(image: np.ndarray, center: np.ndarray, size: np.ndarray, factor: float, output_size: int,
                  replicate: bool = True, off_by_one: bool = True) -> tuple[np.ndarray, CropTransform]:
    """D3S/JCAT's ``sample_target`` around ``center`` (x, y) for a target of ``size`` (w, h)."""
    side = math.ceil(math.sqrt(max(float(size[0]) * float(size[1]), 0.0)) * factor)
    side = max(side, 1)
    x0, y0 = round(float(center[0]) - side / 2), round(float(center[1]) - side / 2)
    crop = resized_window(image, x0, y0, side, output_size, replicate, off_by_one)
    return crop, CropTransform(float(x0), float(y0), output_size / side, output_size)


def sample_patch(image: np.ndarray, position: np.ndarray, side: float, output_size: int) -> tuple[np.ndarray, CropTransform]:
    """pytracking's ``sample_patch`` at ``position`` (x, y continuous): float32 crop and transform."""
    side_px = max(int(round(side)), 2)
    origin = []
    for p in position:
        index = int(float(p) - 0.5)  # .long() of the pixel-index position: truncation
        origin.append(index - (side_px - 1) // 2)
    crop = resized_window(image, origin[0], origin[1], side_px, output_size, as_float=True)
    return crop, CropTransform(float(origin[0]), float(origin[1]), output_size / side_px, output_size)


def to_network_input(crops: np.ndarray, device: torch.device,
                     memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """(N,) H×W×3 crops in 0..255 (uint8 or float) -> ImageNet-normalised float tensor (N, 3, H, W)
    in ``memory_format`` (the network's :func:`~ltr.models.inference.input_memory_format`)."""
    batch = torch.from_numpy(np.ascontiguousarray(crops)).to(device)
    if batch.dim() == 3:
        batch = batch.unsqueeze(0)
    batch = batch.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    return ((batch - mean) / std).contiguous(memory_format=memory_format)
