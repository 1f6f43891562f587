"""``BitTracker``: STARK-ST's inference procedure with the BIT network (bit.md 2.7, 2.9; STARK 3.4).

``initialize``: crop the first-frame template (``template_factor`` = 2× the box, resized to
``model.template_size``), run the backbone once; the initial and the dynamic template slots
start with these features.

``track`` per frame:

1. crop the search region (``search_factor`` = 5× the previous box, ``model.search_size``)
   around the previous box; no motion model and no smoothing;
2. backbone on the search crop, then encoder, MDAI, CTIF and both heads with the cached
   template features (on CUDA replayed from a CUDA graph, ``cuda_graph``: same outputs, a
   fraction of the kernel-launch time);
3. optionally (``motion_window``, off in the paper's tracker) the corners come from the corner
   maps with a Gaussian prior about the previous box's corners added to their logits;
   the normalised ``cx, cy, w, h`` is scaled to crop pixels and mapped back to the frame
   through the crop transform: ``/ resize_factor`` plus the crop's whole-pixel origin.
   STARK's ``map_box_back`` adds ``previous centre − half side`` instead, which ignores the
   rounding of ``sample_target``'s origin (up to 0.5 frame px); the transform uses the origin
   the crop was actually cut at;
4. optionally (``scale_update_rate`` and ``max_scale_change``, off in the paper's tracker) the
   width and height move only part of the way (in log space) from the previous ones and by at
   most that factor, about the predicted centre; then the box is
   clipped to the frame keeping ``clip_margin`` px inside (smaller for frames narrower than 4
   margins), so it is never empty and never leaves the image;
5. ``score`` = sigmoid(logit) (the network runs under autocast with ``amp``); the dynamic
   template is refreshed on the configured interval of the sequence's benchmark when the score
   passes the threshold.

A non-finite prediction (it should not happen) keeps the previous box with score 0.
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ltr.admin.devices import resolve_device
from ltr.data.boxes import clip_box
from ltr.models.bit.experiment import BitExperiment
from ltr.models.bit.network import BitNet, bit_kwargs
from ltr.models.inference import input_memory_format
from ltr.models.precision import amp_dtype, autocast_context
from pytracking.tracker.base import TRACKERS, BaseTracker, sequence_info
from pytracking.tracker.base.cuda_graph import CapturedCall, GraphMismatch
from pytracking.tracker.base.frames import as_rgb, sequence_frame
from pytracking.tracker.base.network import load_tracker_network
from pytracking.tracker.bit.preprocess import CropMaker
from pytracking.tracker.bit.templates import FeatureDict, TemplateSlots

logger = logging.getLogger(__name__)


def load_network(params: BitExperiment, checkpoint: Path | None, autocast_dtype: torch.dtype | None = None) -> BitNet:
    """The net from ``checkpoint`` (or ``tracking.checkpoint``); random init from ``model`` otherwise;
    with the inference fast paths (see :mod:`ltr.models.inference`)."""
    return load_tracker_network("bit", checkpoint or params.tracking.checkpoint, BitNet, bit_kwargs(params.model),
                                autocast_dtype)


def damp_scale_change(box: np.ndarray, previous: np.ndarray, factor: float | None, rate: float = 1.0) -> np.ndarray:
    """``box`` with its (positive) width and height moved ``rate`` of the way (in log space) from
    the previous ones, then clamped to ``[previous / factor, previous * factor]``, about the box's own centre;
    unchanged when ``factor`` is None and ``rate`` is 1."""
    if factor is None and rate == 1.0:
        return box
    box = np.asarray(box, dtype=np.float64).copy()
    centre = box[:2] + box[2:] / 2
    size = previous[2:] * (box[2:] / previous[2:]) ** rate
    if factor is not None:
        size = np.clip(size, previous[2:] / factor, previous[2:] * factor)
    box[2:] = size
    box[:2] = centre - size / 2
    return box


def head_crop_box(out: dict[str, Any], crop_size: int) -> np.ndarray:
    """The box head's normalised ``cx, cy, w, h`` (``out["pred_boxes"]``) as ``x, y, w, h`` in crop px."""
    cx, cy, w, h = (out["pred_boxes"][0].float() * crop_size).tolist()
    return np.array([cx - w / 2, cy - h / 2, w, h])


def windowed_corner_box(score_map_tl: torch.Tensor, score_map_br: torch.Tensor, previous_xyxy: np.ndarray,
                        sigma: float, crop_size: int) -> np.ndarray:
    """Box ``x, y, w, h`` (crop px) from corner logit maps (1, 1, H, W) after adding a Gaussian log-prior
    centred on each previous corner (``previous_xyxy``, crop px), with standard deviation ``sigma``
    times the previous width (x) and height (y). Cell ``i`` sits at ``i * crop_size / W``, as in the
    box head's soft-argmax, which this equals as ``sigma`` grows."""
    height, width = score_map_tl.shape[-2:]
    xs = torch.arange(width, dtype=torch.float64) * (crop_size / width)
    ys = torch.arange(height, dtype=torch.float64) * (crop_size / height)
    prev = np.asarray(previous_xyxy, dtype=np.float64)
    spread = sigma * np.maximum(prev[2:] - prev[:2], 1e-6)  # sigma_x, sigma_y in crop px
    corners = []
    for score_map, (cx, cy) in ((score_map_tl, prev[:2]), (score_map_br, prev[2:])):
        prior = (-0.5 * ((xs - cx) / spread[0]) ** 2)[None, :] + (-0.5 * ((ys - cy) / spread[1]) ** 2)[:, None]
        prob = torch.softmax((score_map[0, 0].double().cpu() + prior).flatten(), dim=0).view(height, width)
        corners += [float((prob.sum(0) * xs).sum()), float((prob.sum(1) * ys).sum())]
    x0, y0, x1, y1 = corners
    return np.array([x0, y0, x1 - x0, y1 - y0])


def effective_margin(margin: float, width: int, height: int) -> float:
    """The clip margin, reduced to a quarter of the shorter side for tiny frames."""
    return min(margin, 0.25 * min(width, height))


@TRACKERS.register("bit")
class BitTracker(BaseTracker):
    """BIT's online tracker; parameters are ``experiments/bit/*.yaml`` (the ``tracking:`` and ``model:`` sections)."""

    params_schema = BitExperiment

    def __init__(self, params: BitExperiment | None = None, checkpoint: Path | None = None) -> None:
        super().__init__(params or BitExperiment(), checkpoint)
        self.cfg = self.params.tracking
        self.device = resolve_device(self.cfg.device)
        network_dtype = amp_dtype(self.device, self.cfg.amp, "tracking.amp")  # refuses a CPU without native bf16
        self.net = load_network(self.params, checkpoint, network_dtype).to(self.device).eval()
        self.template_size = self.net.cfg.template_size
        self.search_size = self.net.cfg.search_size
        self.crops = CropMaker(self.device, input_memory_format(self.net))
        self.use_cuda_graph = (self.cfg.cuda_graph and self.device.type == "cuda"
                               and isinstance(self.net, torch.nn.Module))  # not on a CPU, not an ONNX export
        self._graph: CapturedCall | None = None

    def _autocast(self) -> contextlib.AbstractContextManager:
        """The network's precision context (``tracking.amp``)."""
        return autocast_context(self.device, self.cfg.amp, "tracking.amp")

    # ------------------------------------------------------------------ helpers
    def _search_step(self, image: torch.Tensor, mask: torch.Tensor, templates: list[FeatureDict]) -> dict[str, Any]:
        """The per-frame network work: search backbone, then the head against the cached templates."""
        with self._autocast():
            search = self.net.forward_backbone(image, mask)
            return self.net.forward_head(templates, search, run_box_head=True, run_score_head=True)

    def search_outputs(self, image: torch.Tensor, mask: torch.Tensor, templates: list[FeatureDict]) -> dict[str, Any]:
        """:meth:`_search_step`, replayed from a CUDA graph with ``tracking.cuda_graph`` (captured on
        first use and again if the inputs' shapes change); the outputs are valid until the next frame."""
        if not self.use_cuda_graph:
            return self._search_step(image, mask, templates)
        if self._graph is not None:
            try:
                return self._graph(image, mask, templates)
            except GraphMismatch:  # e.g. another template count: capture again below
                pass
        self._graph = CapturedCall(self._search_step, image, mask, templates)
        return self._graph(image, mask, templates)

    def template_features(self, image: np.ndarray, box: np.ndarray) -> FeatureDict:
        """Backbone features of the template crop (``template_factor`` × ``box``) of ``image``."""
        crop = self.crops(image, box, self.cfg.template_factor, self.template_size)
        with self._autocast():
            return self.net.forward_backbone(crop.image, crop.mask)

    def _valid_box(self, box: np.ndarray) -> np.ndarray:
        """``box`` clipped to the frame with the margin, and at least ``min_target_size`` wide and high."""
        margin = effective_margin(self.cfg.clip_margin, self.width, self.height)
        box = np.asarray(clip_box(np.asarray(box, dtype=np.float64), self.width, self.height, margin))
        box[2:] = np.maximum(box[2:], self.cfg.min_target_size)
        return box

    # ------------------------------------------------------------------ API
    @torch.inference_mode()
    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        image = as_rgb(image)
        self.height, self.width = image.shape[:2]
        box = np.asarray(info["init_bbox"], dtype=np.float64)
        if box.shape != (4,) or not np.isfinite(box).all():
            raise ValueError(f"init_bbox must be 4 finite values x, y, w, h, got {info['init_bbox']!r}")
        box[2:] = np.maximum(box[2:], self.cfg.min_target_size)
        self.state = box
        self.frame_id = 0
        sequence = sequence_info(info)
        intervals = self.cfg.intervals_for(sequence.dataset if sequence else None)
        self.templates = TemplateSlots(self.template_features(image, box), intervals, self.cfg.update_threshold)
        return {"target_bbox": [float(v) for v in self.state]}

    @torch.inference_mode()
    def track(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        image = sequence_frame(image, self.width, self.height, self.frame_id + 1)
        self.frame_id += 1
        crop = self.crops(image, self.state, self.cfg.search_factor, self.search_size)
        out = self.search_outputs(crop.image, crop.mask, self.templates.features)
        if self.cfg.motion_window is None:
            crop_box = head_crop_box(out, self.search_size)
        else:
            if "score_map_tl" not in out:
                raise ValueError("tracking.motion_window needs the corner maps, which this network does not "
                                 "return (an ONNX export made before they were exported: export it again)")
            x, y, w, h = np.asarray(crop.transform.box_to_crop(self.state))
            crop_box = windowed_corner_box(out["score_map_tl"], out["score_map_br"], np.array([x, y, x + w, y + h]),
                                           self.cfg.motion_window, self.search_size)
        box = np.asarray(crop.transform.box_from_crop(crop_box))
        score = float(torch.sigmoid(out["score_logits"][0, 0].float()))
        if np.isfinite(box).all() and np.isfinite(score):
            box[2:] = np.maximum(box[2:], self.cfg.min_target_size)  # corners may cross: no empty box to damp
            self.state = self._valid_box(damp_scale_change(box, self.state, self.cfg.max_scale_change,
                                                           self.cfg.scale_update_rate))
        else:
            logger.warning("bit tracker: non-finite prediction on frame %d; keeping the previous box", self.frame_id)
            score = 0.0
        slots = self.templates.due(self.frame_id, score)
        if slots:
            self.templates.replace(slots, self.template_features(image, self.state))
        return {"target_bbox": [float(v) for v in self.state], "score": score}
