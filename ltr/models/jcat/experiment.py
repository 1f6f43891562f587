"""The ``jcat`` experiment schema: network, training and online-tracking settings in one YAML.

``experiments/jcat/<name>.yaml`` is validated by :class:`JcatExperiment`: the shared training
sections (:class:`~ltr.config.train.TrainingExperiment`), the ``model:`` section
(:class:`~ltr.models.jcat.config.JcatModelConfig`) and the ``tracking:`` section
(:class:`JcatTrackingConfig`, every threshold and size of the online tracker). Defaults are the
published values (jcat.md "Online tracker"); VOT files change only the box mode.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from ltr.config.experiment import TRACKER_SCHEMAS
from ltr.config.train import TrainingExperiment
from ltr.models.jcat.config import JcatModelConfig


@dataclass
class DcfConfig:
    """The online discriminative correlation filter (ATOM/D3S style) that localises the target."""

    search_area_scale: float = field(default=4.5, metadata={"min": 1.0, "max": 20.0})
    sample_size: int = field(default=288, metadata={"min": 32, "max": 1024})  # (18·16)² search crop
    feature_stride: int = field(default=16, metadata={"min": 1})  # of the backbone's layer3
    projection_dim: int = field(default=64, metadata={"min": 1, "max": 1024})  # PCA-initialised 1×1
    filter_size: int = field(default=4, metadata={"min": 1, "max": 15})
    output_sigma_factor: float = field(default=0.25, metadata={"min": 0.01, "max": 2.0})  # × target side
    filter_reg: float = field(default=0.1, metadata={"min": 0.0})
    projection_reg: float = field(default=1e-4, metadata={"min": 0.0})
    init_gn_iters: int = field(default=6, metadata={"min": 1, "max": 100})
    init_cg_iters: int = field(default=10, metadata={"min": 1, "max": 200})
    update_cg_iters: int = field(default=5, metadata={"min": 1, "max": 200})
    train_skipping: int = field(default=10, metadata={"min": 1})  # filter CG every N frames
    flip_augmentation: bool = True
    memory_size: int = field(default=250, metadata={"min": 2, "max": 10000})
    learning_rate: float = field(default=0.0075, metadata={"min": 0.0, "max": 1.0})
    init_samples_min_weight: float = field(default=0.25, metadata={"min": 0.0, "max": 1.0})
    hann_window: bool = True
    target_not_found_threshold: float = field(default=0.25, metadata={"min": 0.0})
    distractor_threshold: float = field(default=0.8, metadata={"min": 0.0, "max": 1.0})
    hard_negative_threshold: float = field(default=0.3, metadata={"min": 0.0, "max": 1.0})
    target_neighborhood_scale: float = field(default=2.2, metadata={"min": 0.0})
    displacement_scale: float = field(default=0.7, metadata={"min": 0.0})
    hard_negative_learning_rate: float = field(default=0.02, metadata={"min": 0.0, "max": 1.0})
    hard_negative_cg_iters: int = field(default=5, metadata={"min": 1, "max": 200})


@dataclass
class SampleFilterConfig:
    """JCAT's online sample filtering: uncertainty ``u`` and confidence ratio ``c`` gates."""

    response_window: int = field(default=25, metadata={"min": 1})  # max responses averaged for u
    confidence_window: int = field(default=5, metadata={"min": 1})  # confidences averaged for c
    start_frame: int = field(default=5, metadata={"min": 0})  # u is computed after this frame
    max_uncertainty: float = field(default=3.0, metadata={"min": 0.0})  # updates need u < this
    max_uncertainty_segmentation: float = field(default=10.0, metadata={"min": 0.0})  # segment if u < this
    min_confidence_ratio_update: float = field(default=0.15, metadata={"min": 0.0})  # filter memory
    min_confidence_ratio_budget: float = field(default=0.3, metadata={"min": 0.0})  # confidence budget


@dataclass
class SegmentationConfig:
    """The segmentation step: crop, threshold, box from the mask and its per-frame scale bound."""

    search_area_scale: float = field(default=4.0, metadata={"min": 1.0, "max": 20.0})
    output_size: int = field(default=384, metadata={"min": 32, "max": 2048})
    threshold: float = field(default=0.5, metadata={"min": 0.0, "max": 1.0})
    # smallest usable region, as a fraction of the expected target area in the crop
    # ((output_size / search_area_scale)²); D3S: 1000 px in a 384² crop at 4.0×, about 0.1
    min_mask_area: float = field(default=0.1, metadata={"min": 0.0, "max": 1.0})
    min_scale_change: float = field(default=0.95, metadata={"min": 0.0, "max": 1.0})
    max_scale_change: float = field(default=1.05, metadata={"min": 1.0})
    box_mode: Literal["axis_aligned", "rotated"] = "axis_aligned"  # rotated: VOT polygon output


@dataclass
class MemoryConfig:
    """The segmentation memory bank's size and update schedule (frames counted from 1 after init)."""

    size: int = field(default=4, metadata={"min": 0, "max": 64})
    hard_negative_interval: int = field(default=10, metadata={"min": 1})
    initial_frames: int = field(default=10, metadata={"min": 0})
    interval: int = field(default=20, metadata={"min": 1})
    max_uncertainty: float = field(default=3.0, metadata={"min": 0.0})


@dataclass
class JcatTrackingConfig:
    """Every parameter of the online JCAT tracker (the ``tracking:`` section).

    ``checkpoint``: a project checkpoint (relative paths resolve against the repository root);
    None builds the ``model:`` network with random weights, which only smoke tests should do.
    """

    checkpoint: Optional[str] = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    min_target_size: float = field(default=2.0, metadata={"min": 0.5})  # px, lower bound of w and h
    dcf: DcfConfig = field(default_factory=DcfConfig)
    sample_filter: SampleFilterConfig = field(default_factory=SampleFilterConfig)
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)


@TRACKER_SCHEMAS.register("jcat")
@dataclass
class JcatExperiment(TrainingExperiment):
    """``experiments/jcat/*.yaml``: shared training sections + ``model`` + ``tracking``."""

    network: str = "jcat"
    actor: str = "jcat"
    model: JcatModelConfig = field(default_factory=JcatModelConfig)
    tracking: JcatTrackingConfig = field(default_factory=JcatTrackingConfig)
