"""Generic episode processing: crops around the (jittered) target, joint augmentation, labels.

One parameterised implementation serves every tracker; :class:`~ltr.config.train.ProcessingConfig`
sets each frame group's crop (size, search-area factor, jitter) and augmentation.

Output keys (``G`` is ``template`` or ``search``; ``N`` the group's frame count, ``s`` its
output size, ``f = s // feature_stride``). In segmentation episodes the templates are the
reference frames and the search frames the test frames.

========================  ==============  ====================================================
key                       shape, dtype    meaning
========================  ==============  ====================================================
``G_images``              (N,s,s,3) u8    RGB crops (brightness jitter applied when it brightens)
``G_norm``                (2,3) f32       per-channel scale and offset: ``normalise_images`` turns
                                          ``G_images`` into ImageNet-normalised (N,3,s,s) f32
``G_boxes``               (N,4) f32       target box ``x, y, w, h`` in crop pixels
``G_boxes_norm``          (N,4) f32       the same divided by ``s`` (may leave [0, 1] when the
                                          target leaves the crop; losses clamp as STARK does)
``G_pad``                 (N,s,s) bool    True on padded pixels (centre outside the image)
``G_pad_down``            (N,f,f) bool    ``G_pad`` at feature resolution (nearest)
``G_masks``               (N,s,s) uint8   target mask {0, 1} (only with ``masks: true``)
``search_dist``           (N,s,s) f32     distance (crop px) from the jittered box centre
                                          (only with ``distance_map: true``)
``label``                 () f32          1: the search frames show the target, 0: negative
========================  ==============  ====================================================

The sampler adds ``skipped_corrupt`` and ``skipped_rejected`` (() int64).

Crops start on whole pixels (STARK's ``sample_target`` rounding), so the common case (no
rotation/scale/shift augmentation) is a cut-and-resize (:func:`~ltr.data.transforms.render_crop`).
Crops leave the workers as uint8: 4x fewer bytes to collate and move, and the float
conversion runs on the training device (:func:`normalise_images`, which
:class:`~ltr.actors.base.BaseActor` applies to every batch).
"""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import torch

from ltr.config.train import CropConfig, ProcessingConfig
from ltr.data.boxes import crop_side_for_box, crop_transform, is_valid_box
from ltr.data.labels import distance_map, downsample_padding
from ltr.data.sampler import Episode, FrameGroup, RejectEpisode
from ltr.data.transforms import (
    crop_matrix, draw_geometric, gaussian_blur, padding_mask, render_crop, to_grayscale, transform_box,
    transform_point,
)

GROUPS = ("template", "search")


def jitter_box(box: np.ndarray, config: CropConfig, rng: np.random.Generator) -> np.ndarray:
    """STARK's jitter: size ``× exp(N(0, scale_jitter))``, centre ``± center_jitter/2·sqrt(w'h')``."""
    x, y, w, h = (float(v) for v in box)
    if config.scale_jitter:
        w, h = (v * math.exp(float(rng.normal()) * config.scale_jitter) for v in (w, h))
    cx, cy = x + box[2] / 2, y + box[3] / 2
    if config.center_jitter:
        offset = math.sqrt(w * h) * config.center_jitter
        cx += offset * (float(rng.random()) - 0.5)
        cy += offset * (float(rng.random()) - 0.5)
    return np.array([cx - w / 2, cy - h / 2, w, h])


class EpisodeProcessing:
    """Callable ``(episode, rng) -> dict of tensors`` for :class:`~ltr.data.sampler.EpisodeSampler`."""

    def __init__(self, config: ProcessingConfig) -> None:
        self.config = config
        mean, std = torch.tensor(config.mean), torch.tensor(config.std)
        self.scale = 1.0 / (255.0 * std)  # (x/255 - mean)/std = x·scale + offset
        self.offset = -mean / std

    def __call__(self, episode: Episode, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        cfg = self.config
        flip = bool(rng.random() < cfg.flip_prob) if cfg.flip_prob else False
        gray = bool(rng.random() < cfg.grayscale_prob) if cfg.grayscale_prob else False
        out: dict[str, torch.Tensor] = {}
        for name in GROUPS:
            group: FrameGroup = getattr(episode, name)
            out.update(self._process_group(name, group, getattr(cfg, name), rng, flip, gray))
        out["label"] = torch.tensor(float(episode.label))
        return out

    def _process_group(self, name: str, group: FrameGroup, crop_cfg: CropConfig, rng: np.random.Generator,
                       flip: bool, gray: bool) -> dict[str, torch.Tensor]:
        cfg = self.config
        size = crop_cfg.output_size
        if cfg.masks and group.masks is None:
            raise ValueError(f"processing expects masks but dataset '{group.dataset}' returned none")
        images, boxes, pads, masks, dists = [], [], [], [], []
        for i, (frame, box) in enumerate(zip(group.frames, group.boxes)):
            if not is_valid_box(np.asarray(box)):
                raise RejectEpisode(f"invalid box {box} in {group.dataset} sequence {group.seq_id}")
            jittered = jitter_box(box, crop_cfg, rng)
            if not is_valid_box(jittered):
                raise RejectEpisode(f"degenerate jittered box {jittered}")
            center = (jittered[0] + jittered[2] / 2, jittered[1] + jittered[3] / 2)
            crop = crop_transform(center, crop_side_for_box(jittered, crop_cfg.search_area_factor), size,
                                  whole_pixels=True)
            geo = draw_geometric(rng, crop_cfg, flip)
            matrix = crop_matrix(crop, geo)
            image = render_crop(frame, crop, geo)
            if gray:
                image = to_grayscale(image)
            if crop_cfg.blur_prob and rng.random() < crop_cfg.blur_prob:
                image = gaussian_blur(image, float(rng.uniform(*crop_cfg.blur_sigma)))
            images.append(image)
            boxes.append(transform_box(matrix, box))
            pads.append(padding_mask(matrix, frame.shape[1], frame.shape[0], size))
            if cfg.masks:
                masks.append(render_crop(group.masks[i], crop, geo, nearest=True))
            if cfg.distance_map and name == "search":
                dists.append(distance_map(transform_point(matrix, *center), size))
        pad = np.stack(pads)
        pad_down = downsample_padding(pad, cfg.feature_stride)
        if cfg.reject_all_padding and pad_down.reshape(len(pad_down), -1).all(axis=1).any():
            raise RejectEpisode("a crop is padding only at feature resolution")
        box_t = torch.from_numpy(np.stack(boxes)).float()
        pixels = self._normalise(np.stack(images), crop_cfg, rng)
        out = {
            f"{name}_images": pixels["images"],
            f"{name}_norm": pixels["norm"],
            f"{name}_boxes": box_t,
            f"{name}_boxes_norm": box_t / size,
            f"{name}_pad": torch.from_numpy(pad),
            f"{name}_pad_down": torch.from_numpy(pad_down),
        }
        if cfg.masks:
            out[f"{name}_masks"] = torch.from_numpy(np.minimum(np.stack(masks), 1))
        if dists:
            out[f"{name}_dist"] = torch.from_numpy(np.stack(dists))
        return out

    def _normalise(self, images: np.ndarray, crop_cfg: CropConfig, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """uint8 ``(N,h,w,3)`` crops -> ``images`` (uint8, brightness applied when > 1) and ``norm``.

        Brightness ``f`` multiplies intensities and saturates at 255 (as pytracking's
        ``ToTensorAndJitter``). Above 1 that needs the saturating uint8 multiply here; below 1
        it folds into the per-channel scale, so the device does one multiply-add per pixel.
        """
        factor = 1.0
        if crop_cfg.brightness:
            factor = float(rng.uniform(max(0.0, 1 - crop_cfg.brightness), 1 + crop_cfg.brightness))
        if factor > 1.0:
            n, h, w, c = images.shape
            images = cv2.convertScaleAbs(images.reshape(n * h, w, c), alpha=factor).reshape(n, h, w, c)
            factor = 1.0
        return {"images": torch.from_numpy(images), "norm": torch.stack((self.scale * factor, self.offset))}


def normalise_images(batch: dict[str, Any]) -> dict[str, Any]:
    """Turn every uint8 ``G_images`` with its ``G_norm`` into normalised float ``(..., 3, s, s)``.

    Works on one sample (``(N,s,s,3)``, ``(2,3)``) or a batch (``(B,N,s,s,3)``, ``(B,2,3)``) on
    any device; ``G_norm`` is consumed. Batches without uint8 images pass through unchanged.
    """
    out = dict(batch)
    for key in [k for k in batch if k.endswith("_images")]:
        norm_key = key[: -len("images")] + "norm"
        images = out[key]
        if images.dtype != torch.uint8 or norm_key not in out:
            continue
        norm = out.pop(norm_key).to(images.device)
        scale, offset = (norm[..., i, :][..., None, :, None, None] for i in (0, 1))
        out[key] = torch.addcmul(offset, images.movedim(-1, -3).float(), scale)
    return out
