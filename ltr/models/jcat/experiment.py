"""The ``jcat`` experiment schema: network, training and online-tracking settings in one YAML.

``experiments/jcat/<name>.yaml`` is validated by :class:`JcatExperiment`: the shared training
sections (:class:`~ltr.config.train.TrainingExperiment`), the ``model:`` section
(:class:`~ltr.models.jcat.config.JcatModelConfig`) and the ``tracking:`` section
(:class:`JcatTrackingConfig`, every threshold and size of the online tracker). Defaults are the
official tracker's (Yang428/JCAT, ``parameter/Jcat/Jcat.py``); ``default_vot.yaml`` holds the
official VOT tracker's differences (``parameter/Jcat/Jcat_vot.py`` and ``tracker/Jcat_vot``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from ltr.config.experiment import TRACKER_SCHEMAS
from ltr.config.train import TrainingExperiment
from ltr.models.jcat.config import JcatModelConfig


@dataclass
class DcfConfig:
    """The online discriminative correlation filter (ATOM/D3S style) that localises the target.

    Defaults are the official tracker's (Yang428/JCAT ``parameter/Jcat/Jcat.py``).
    """

    search_area_scale: float = field(default=4.5, metadata={"min": 1.0, "max": 20.0})
    sample_size: int = field(default=288, metadata={"min": 32, "max": 640})  # (18·16)² search crop
    # side whose square is the official min = max image_sample_size, which sets the first
    # frame's target scale (crop = sample_size · scale); null = sample_size. The official VOT
    # tracker asks for 360², which its even-feature rounding makes a 352 sample, so its search
    # area is 4.5 · 352/360 of the target while its mask scale estimate divides by 352
    image_sample_size: Optional[int] = field(default=None, metadata={"min": 32, "max": 1024})
    feature_stride: int = field(default=16, metadata={"min": 1, "max": 64})  # of the backbone's layer3
    projection_dim: int = field(default=64, metadata={"min": 1, "max": 1024})  # PCA-initialised 1×1
    filter_size: int = field(default=4, metadata={"min": 1, "max": 15})
    output_sigma_factor: float = field(default=0.25, metadata={"min": 0.01, "max": 2.0})  # × target side
    filter_reg: float = field(default=0.1, metadata={"min": 0.0})
    # the filter-update regulariser is filter_reg · (outer(p, p) ⊙ f)² with p this profile (length
    # filter_size; official [1, .3, .3, 1]: the border taps are penalised more); [] = uniform
    filter_penalty: list[float] = field(default_factory=lambda: [1.0, 0.3, 0.3, 1.0])
    projection_reg: float = field(default=1e-4, metadata={"min": 0.0})
    # 'mlu': response = elu(leaky_relu(r, 1/a), a) with a = response_activation_param, in both
    # the initial Gauss-Newton and the updates (official ('mlu', 0.05)); 'none': linear filter
    response_activation: Literal["none", "mlu"] = "mlu"
    response_activation_param: float = field(default=0.05, metadata={"min": 1e-3, "max": 1.0})
    init_gn_iters: int = field(default=6, metadata={"min": 1, "max": 100})
    init_cg_iters: int = field(default=10, metadata={"min": 1, "max": 200})
    update_cg_iters: int = field(default=5, metadata={"min": 1, "max": 200})
    train_skipping: int = field(default=10, metadata={"min": 1})  # filter CG on every N-th tracked frame
    # first-frame samples: 'official' = identity, 8 relative shifts, flip, 5 blurs, 12 rotations
    # (27) of a 2× crop; 'flip' = identity + flip (the project's cheaper variant); 'none'
    augmentation: Literal["official", "flip", "none"] = "official"
    memory_size: int = field(default=250, metadata={"min": 2, "max": 10000})  # VOT 300
    learning_rate: float = field(default=0.0075, metadata={"min": 0.0, "max": 0.99})
    # pytracking's init_samples_minimum_weight: 0 (official) = initial samples are replaceable
    # and get no minimum; > 0 = they are never replaced and keep this total weight
    init_samples_min_weight: float = field(default=0.0, metadata={"min": 0.0, "max": 1.0})
    hann_window: bool = True
    # true (official): the response is Fourier-interpolated to sample_size² (1 crop px per cell)
    # and windowed there; false: the raw response with a parabolic sub-cell peak
    upsample_response: bool = True
    target_not_found_threshold: float = field(default=-1.0, metadata={"min": -1e9})  # official −1
    distractor_threshold: float = field(default=100.0, metadata={"min": 0.0})  # official 100 (never)
    hard_negative_threshold: float = field(default=0.3, metadata={"min": 0.0, "max": 1.0})
    target_neighborhood_scale: float = field(default=2.2, metadata={"min": 0.0})
    displacement_scale: float = field(default=0.7, metadata={"min": 0.0})
    hard_negative_learning_rate: float = field(default=0.02, metadata={"min": 0.0, "max": 0.99})
    hard_negative_cg_iters: int = field(default=5, metadata={"min": 1, "max": 200})
    # true: only 'normal' / 'hard_negative' frames enter the sample memory (the project's
    # variant); false (official): the memory update ignores the flag
    train_on_flag_only: bool = False
    # true (official VOT tracker): the memory sample is re-extracted at the new position after
    # the state update; false (official tracker): the search sample with its label moved
    resample_at_new_position: bool = False
    # 'shared': layer3 of the JCAT net's backbone (the released net's backbone is the frozen
    # ImageNet ResNet-50, so its layer3 equals the official filter's ATOMResNet50 features);
    # 'separate': an own ResNet-50 (backbone_weights: a local torchvision state_dict, null =
    # random init; never downloaded)
    backbone: Literal["shared", "separate"] = "shared"
    backbone_weights: Optional[str] = None
    position_margin: float = field(default=0.3, metadata={"min": 0.0, "max": 1.0})  # × size allowed outside


@dataclass
class SampleFilterConfig:
    """JCAT's online sample filtering: uncertainty ``u`` and confidence ratio ``c`` gates."""

    response_window: int = field(default=25, metadata={"min": 1})  # max responses averaged for u
    response_budget_init: Optional[float] = field(default=1.0, metadata={"min": 0.0, "max": 1e6})  # the response
    # budget's first entry (official 1)
    confidence_window: int = field(default=5, metadata={"min": 1})  # confidences averaged for c
    # u and c are computed from the (start_frame + 1)-th tracked frame on (official: the 5th)
    start_frame: int = field(default=4, metadata={"min": 0})
    # 'response' (official): smax·(smax−smin)²/mean((s−smin)²) of the filter response;
    # 'mask': the mean target probability inside the mask (the project's variant);
    # 'none' (official VOT tracker): no confidence gate (c = 1)
    confidence: Literal["response", "mask", "none"] = "response"
    max_uncertainty: float = field(default=3.0, metadata={"min": 0.0})  # updates need u < this
    max_uncertainty_segmentation: float = field(default=10.0, metadata={"min": 0.0})  # segment if u < this
    min_confidence_ratio_update: float = field(default=0.15, metadata={"min": 0.0})  # filter memory
    min_confidence_ratio_budget: float = field(default=0.3, metadata={"min": 0.0})  # confidence budget
    # official: a negative response peak gives a negative u, i.e. "certain" (a plain bug: the
    # filter found nothing); true treats it as u = ∞
    negative_peak_uncertain: bool = False
    # A guard, not in JCAT (None = off, official: the position always moves to the filter's peak):
    # when u >= this the position stays where it was, so a lost target's search region waits
    # where it was last seen instead of drifting after background peaks
    hold_position_uncertainty: Optional[float] = field(default=None, metadata={"min": 0.0})


@dataclass
class SegmentationConfig:
    """The segmentation step: crop, threshold, mask -> box and the scale estimate."""

    search_area_scale: float = field(default=4.0, metadata={"min": 1.0, "max": 20.0})
    output_size: int = field(default=384, metadata={"min": 32, "max": 1024})
    threshold: float = field(default=0.5, metadata={"min": 0.0, "max": 1.0})
    # the reference mask: the network's own first-frame segmentation (threshold
    # init_threshold) × the box dilated by max(5, 0.05·min(w, h)) crop px (official); false:
    # the rasterised box itself
    refine_reference: bool = True
    init_threshold: float = field(default=0.5, metadata={"min": 0.0, "max": 1.0})
    min_region_pixels: float = field(default=50.0, metadata={"min": 0.0})  # largest region must exceed (crop px)
    # a second region larger than this fraction of the largest marks a segmentation hard
    # negative (memory bank every hard_negative_interval frames); official 0.4, VOT 0.25
    hard_negative_region_ratio: float = field(default=0.4, metadata={"min": 0.0, "max": 1.0})
    # reported box: fit_bbox_to_mask when its area over the minimum-area rectangle's is in
    # (fit_min_area_ratio, fit_max_area_ratio), else that rectangle's bounds (official 0.1, 2.5)
    fit_min_area_ratio: float = field(default=0.1, metadata={"min": 0.0})
    fit_max_area_ratio: float = field(default=2.5, metadata={"min": 0.0})
    # region area vs the mean of the last area_window accepted areas: |mean − a| / mean must
    # be below move_area_ratio for the position to follow the mask and below
    # report_area_ratio for the mask box to be reported and the area to be accepted
    area_window: int = field(default=25, metadata={"min": 1})
    move_area_ratio: float = field(default=1.0, metadata={"min": 0.0})
    report_area_ratio: float = field(default=2.0, metadata={"min": 0.0})
    # 'official': one scale factor (aspect ratio fixed) from the mask's area-preserving box,
    # estimated when u < scale_max_uncertainty, bounded to [min, max]_scale_change × the
    # current scale, applied to the size on the next frame with u < 3; 'per_axis': the
    # project's variant, width and height follow the mask box at once, each bounded
    scale_mode: Literal["official", "per_axis"] = "official"
    scale_max_uncertainty: float = field(default=3.5, metadata={"min": 0.0})
    max_rel_scale_change: float = field(default=0.75, metadata={"min": 0.0})  # estimates beyond are ignored
    min_scale: float = field(default=0.2, metadata={"min": 0.0})  # smallest search-crop scale estimate
    min_scale_change: float = field(default=0.95, metadata={"min": 0.0, "max": 1.0})
    max_scale_change: float = field(default=1.05, metadata={"min": 1.0})
    # A guard, not in JCAT (false = official): the first frame is segmented as a tracked frame
    # would be, and every later mask scale estimate is multiplied by the initial scale over that
    # frame's estimate, so a net that over- or under-segments a target consistently does not
    # grow or shrink its box (boxes given by an initial mask are never calibrated)
    calibrate_scale: bool = False
    # with an initial mask (segmentation sequences): every frame is segmented, all regions are
    # kept in the mask, the threshold and scale bounds below apply (official 0.2, 0.9, 1.1)
    init_mask_threshold: float = field(default=0.2, metadata={"min": 0.0, "max": 1.0})
    init_mask_min_scale_change: float = field(default=0.9, metadata={"min": 0.0, "max": 1.0})
    init_mask_max_scale_change: float = field(default=1.1, metadata={"min": 1.0})
    box_mode: Literal["axis_aligned", "rotated"] = "axis_aligned"  # rotated: VOT polygon output
    # official sample_target pads the right/bottom edge one pixel too much (the last image
    # column/row is dropped and the one before replicated): a plain bug kept by default;
    # false cuts the exact window
    crop_off_by_one: bool = True

    def __post_init__(self) -> None:
        if self.fit_min_area_ratio >= self.fit_max_area_ratio:
            raise ValueError(f"segmentation.fit_min_area_ratio {self.fit_min_area_ratio} must be below "
                             f"fit_max_area_ratio {self.fit_max_area_ratio} (an empty interval never fits the mask)")


@dataclass
class MemoryConfig:
    """The segmentation memory bank's size and schedule (official ``segm_update_skip`` = 10, VOT 20).

    Only frames with ``u < max_uncertainty`` add. Frames are counted since the last addition:
    with a hard negative (the filter's or a segmentation one) a sample is added once
    ``hard_negative_interval`` frames have passed; otherwise on tracked frames
    1..``initial_frames`` and once ``interval`` frames have passed (``regular_updates``; the
    official VOT tracker adds on hard negatives only). The sample is its own ``crop_scale``×
    crop around the filter's position, segmented with the bank, and is added only when its
    largest region exceeds ``min_region_pixels``.
    """

    size: int = field(default=4, metadata={"min": 0, "max": 64})
    hard_negative_interval: int = field(default=10, metadata={"min": 1})
    initial_frames: int = field(default=9, metadata={"min": 0})
    interval: int = field(default=20, metadata={"min": 1})
    regular_updates: bool = True
    max_uncertainty: float = field(default=3.0, metadata={"min": 0.0})
    crop_scale: float = field(default=4.5, metadata={"min": 1.0, "max": 20.0})
    min_region_pixels: float = field(default=50.0, metadata={"min": 0.0})


@dataclass
class JcatTrackingConfig:
    """Every parameter of the online JCAT tracker (the ``tracking:`` section).

    ``checkpoint``: a project checkpoint (relative paths resolve against the repository root);
    None builds the ``model:`` network with random weights, which only smoke tests should do.
    """

    checkpoint: Optional[str] = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # mixed precision for the networks (segmentation net and filter backbone): bf16 autocast on
    # CUDA (fp16 on GPUs without bf16), bf16 on a CPU with native bf16 (AVX512-BF16/AMX; refused
    # elsewhere). Off: the filter optimisation turns any change in the features into different
    # boxes after a few frames
    amp: bool = False
    min_target_size: float = field(default=2.0, metadata={"min": 0.5, "max": 64.0})  # px, lower bound of w and h
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
