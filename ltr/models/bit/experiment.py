"""The ``bit`` experiment schema: network, two-stage training and online tracking in one YAML.

``experiments/bit/<name>.yaml`` is validated by :class:`BitExperiment`: the shared training
sections (:class:`~ltr.config.train.TrainingExperiment`, with ``stages`` for STARK's two-stage
recipe), the ``model:`` section (:class:`~ltr.models.bit.config.BitModelConfig`), the ``loss:``
section (:class:`BitLossConfig`, which objective the stage trains) and the ``tracking:``
section (:class:`BitTrackingConfig`, every setting of the online tracker). Defaults follow
bit.md sections 2.7-2.9 and STARK-ST (sections 3.3-3.4).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from ltr.config.experiment import TRACKER_SCHEMAS
from ltr.config.train import TrainingExperiment
from ltr.models.bit.config import BitModelConfig

DEFAULT_UPDATE_INTERVALS = {"default": [200], "lasot": [200], "got10k": [200], "trackingnet": [25], "vot2020": [10]}


@dataclass
class BitLossConfig:
    """What a training stage optimises.

    ``objective: box`` (stage 1): ``giou · GIoU + l1 · L1`` on the normalised search boxes of the
    positive episodes, score head frozen. ``objective: score`` (stage 2): ``score · BCE`` of the
    score head on positive and negative episodes, everything else frozen.
    """

    objective: Literal["box", "score"] = "box"
    giou: float = field(default=2.0, metadata={"min": 0.0})
    l1: float = field(default=5.0, metadata={"min": 0.0})
    score: float = field(default=1.0, metadata={"min": 0.0})


MAX_DYNAMIC_TEMPLATES = 8
"""Most dynamic templates (update intervals) a tracker keeps; STARK and BIT use one."""


@dataclass
class BitTrackingConfig:
    """Every parameter of the online BIT tracker (the ``tracking:`` section), STARK's procedure.

    Crop sizes come from the network (``model.template_size`` / ``search_size``). The dynamic
    template is replaced on frames ``k`` with ``k % interval == 0`` when ``sigmoid(score) >
    update_threshold``; ``update_intervals`` maps a benchmark name (``Sequence.dataset``, or
    ``dataset`` when set) to its intervals (one dynamic template slot per interval), with
    ``default`` for every other benchmark. ``checkpoint``: a project checkpoint (relative paths
    resolve against the repository root); None builds the ``model:`` net with random weights.
    """

    checkpoint: Optional[str] = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # mixed precision for the network: bf16 autocast on CUDA (fp16 on GPUs without bf16), bf16 on
    # a CPU with native bf16 (AVX512-BF16/AMX; refused elsewhere, where it would be slower).
    # BIT-101 forward on a 2-core AVX512-BF16 EPYC: 0.62x the fp32 time, boxes within 1e-4 of the
    # crop size. At batch 1 on a GPU it does not pay: track() on an H200 ran at 42 frames/s with
    # autocast against 87 in fp32 (kernel launches, not arithmetic, bound a frame there)
    amp: bool = False
    # on CUDA the per-frame network work (search backbone + head against the cached templates) is
    # captured once as a CUDA graph and replayed (pytracking/tracker/base/cuda_graph.py); ignored
    # on a CPU and for ONNX exports. On an H200, BIT-101 track() ran at 199 frames/s with it and
    # 56 without (fp32, one run), boxes within 1e-4 px of op by op (tests/test_cuda_graph.py)
    cuda_graph: bool = True
    template_factor: float = field(default=2.0, metadata={"min": 0.5, "max": 10.0})
    search_factor: float = field(default=5.0, metadata={"min": 1.0, "max": 20.0})
    update_threshold: float = field(default=0.5, metadata={"min": 0.0, "max": 1.0})
    update_intervals: dict[str, list[int]] = field(default_factory=lambda: {
        k: list(v) for k, v in DEFAULT_UPDATE_INTERVALS.items()})
    dataset: Optional[str] = None  # benchmark whose intervals apply; None: the sequence's dataset
    clip_margin: float = field(default=10.0, metadata={"min": 0.0, "max": 100.0})  # px kept inside the image
    min_target_size: float = field(default=1.0, metadata={"min": 0.1, "max": 64.0})  # px, lower bound of w and h
    # Guard, not in STARK/BIT (None = off, the paper's tracker): the box's width and height may
    # change by at most this factor from one frame to the next, which stops a box that drifts
    # larger feeding an ever larger search region.
    max_scale_change: Optional[float] = field(default=None, metadata={"min": 1.0})
    # Guard, not in STARK/BIT (1 = off): the reported width and height move this fraction of the
    # way (in log space) from the previous ones towards the network's, as SiamFC/SiamRPN damp their
    # scale updates; a noisy size estimate then averages out instead of compounding.
    scale_update_rate: float = field(default=1.0, metadata={"min": 0.0, "max": 1.0})
    # Guard, not in STARK/BIT (None = off): a motion prior on the corner maps. Each corner's logits
    # get log N(previous corner, sigma) added before the soft-argmax, with sigma this many previous
    # target widths (x) and heights (y), so a look-alike far from the last box weighs less.
    motion_window: Optional[float] = field(default=None, metadata={"min": 0.01})

    def __post_init__(self) -> None:
        keys = [k.lower() for k in self.update_intervals]
        if len(set(keys)) != len(keys):
            raise ValueError(f"tracking.update_intervals: benchmark names differ only in case: {sorted(self.update_intervals)}")
        self.update_intervals = {k.lower(): v for k, v in self.update_intervals.items()}  # benchmarks match lower-case
        if "default" not in self.update_intervals:
            raise ValueError("tracking.update_intervals needs a 'default' entry")
        bad = {k: v for k, v in self.update_intervals.items() if not v or min(v) < 1}
        if bad:
            raise ValueError(f"tracking.update_intervals: every entry needs intervals >= 1, got {bad}")
        many = {k: len(v) for k, v in self.update_intervals.items() if len(v) > MAX_DYNAMIC_TEMPLATES}
        if many:
            raise ValueError(f"tracking.update_intervals: at most {MAX_DYNAMIC_TEMPLATES} intervals (one dynamic "
                             f"template each, every one attended on every frame), got {many}")

    def intervals_for(self, dataset: str | None) -> list[int]:
        """Update intervals of a benchmark (``self.dataset`` wins over ``dataset``), else ``default``."""
        name = (self.dataset or dataset or "default").lower()
        return list(self.update_intervals.get(name, self.update_intervals["default"]))


@TRACKER_SCHEMAS.register("bit")
@dataclass
class BitExperiment(TrainingExperiment):
    """``experiments/bit/*.yaml``: shared training sections + ``model`` + ``loss`` + ``tracking``."""

    network: str = "bit"
    actor: str = "bit"
    model: BitModelConfig = field(default_factory=BitModelConfig)
    loss: BitLossConfig = field(default_factory=BitLossConfig)
    tracking: BitTrackingConfig = field(default_factory=BitTrackingConfig)
