"""Shared typed training configs that every tracker's experiment schema composes.

A tracker's schema subclasses :class:`TrainingExperiment` and adds its own ``model:`` section
(and loss weights), e.g.::

    @TRACKER_SCHEMAS.register("bit")
    @dataclass
    class BitExperiment(TrainingExperiment):
        model: BitModelConfig = field(default_factory=BitModelConfig)

An experiment may list training ``stages``; stage N is the experiment with the stage's ``set``
mapping merged over it (see :func:`load_training_experiment`), so a stage states only what it
changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Optional

from ltr.config.experiment import TRACKER_SCHEMAS, experiment_path
from ltr.config.loader import ConfigError, from_dict, key_origin, load_yaml, merge_dicts, parse_overrides, to_dict
from ltr.models.backbone.pretrained import IMAGENET_MEAN, IMAGENET_STD


@dataclass
class DatasetEntry:
    """One training dataset: its TRAIN_DATASETS name, mixing weight and constructor kwargs.

    When the constructor takes ``root``, it is filled from the paths file / environment under
    ``paths_key`` (default: the dataset's class attribute ``paths_key``, else the name up to the
    first underscore, e.g. ``got10k`` for ``got10k_vottrain``).
    """

    name: str = ""
    weight: float = field(default=1.0, metadata={"min": 0.0})
    kwargs: dict[str, Any] = field(default_factory=dict)
    paths_key: Optional[str] = None


@dataclass
class SamplerConfig:
    """How one training episode's frames are picked (see ``ltr.data.sampler``).

    Modes: ``pair`` (templates and search frames within ``max_gap`` of each other), ``trident``
    (STARK ``trident_pro``: initial template and search anywhere, a dynamic template within
    ``max_gap`` of the search frame on the side facing the initial template) and ``segmentation``
    (``num_templates`` reference frames with masks + ``num_search`` test frames within
    ``max_gap``). ``negative_prob`` of the episodes get a search frame without the target
    (label 0): a frame where it is absent (with a fake box) or one from another sequence.
    """

    mode: Literal["pair", "trident", "segmentation"] = "pair"
    num_templates: int = field(default=1, metadata={"min": 1, "max": 16})
    num_search: int = field(default=1, metadata={"min": 1, "max": 16})
    max_gap: int = field(default=100, metadata={"min": 0})
    min_visible_frames: int = field(default=2, metadata={"min": 1})
    negative_prob: float = field(default=0.0, metadata={"min": 0.0, "max": 1.0})
    negative_kinds: list[Literal["absent", "other_sequence"]] = field(
        default_factory=lambda: ["absent", "other_sequence"])
    max_attempts: int = field(default=100, metadata={"min": 1})


@dataclass
class CropConfig:
    """Crop and augmentation settings of one frame group (templates or search frames).

    The crop is a square of ``search_area_factor · sqrt(w·h)`` of the jittered box, resized to
    ``output_size``. Jitter follows STARK: size ``× exp(N(0, scale_jitter))``, centre shifted
    uniformly by up to ``±center_jitter/2 · sqrt(w'·h')``. ``rotation`` (degrees), ``scale``
    (relative) and ``translate`` (fraction of the output size) bound a small random affine.
    ``brightness`` scales intensities by ``U(1-b, 1+b)``; ``blur_prob`` applies a Gaussian blur
    with sigma drawn from ``blur_sigma``.
    """

    output_size: int = field(default=128, metadata={"min": 8, "max": 2048})
    search_area_factor: float = field(default=2.0, metadata={"min": 0.1})
    center_jitter: float = field(default=0.0, metadata={"min": 0.0})
    scale_jitter: float = field(default=0.0, metadata={"min": 0.0})
    rotation: float = field(default=0.0, metadata={"min": 0.0, "max": 180.0})
    scale: float = field(default=0.0, metadata={"min": 0.0, "max": 0.9})
    translate: float = field(default=0.0, metadata={"min": 0.0, "max": 0.5})
    brightness: float = field(default=0.0, metadata={"min": 0.0, "max": 1.0})
    blur_prob: float = field(default=0.0, metadata={"min": 0.0, "max": 1.0})
    blur_sigma: tuple[float, float] = field(default=(0.2, 1.5), metadata={"min": 0.01})


@dataclass
class ProcessingConfig:
    """Generic episode processing (see ``ltr.data.processing`` for the output keys).

    ``flip_prob`` and ``grayscale_prob`` are drawn once per episode and apply to every frame;
    the rest is per frame group. ``feature_stride`` gives the downsampled padding masks; with
    ``reject_all_padding`` an episode whose downsampled padding mask is all ones is redrawn.
    ``masks`` adds the cropped segmentation masks; ``distance_map`` adds the search crops'
    distance (crop pixels) from the jittered box centre.
    """

    template: CropConfig = field(default_factory=CropConfig)
    search: CropConfig = field(default_factory=lambda: CropConfig(
        output_size=320, search_area_factor=5.0, center_jitter=4.5, scale_jitter=0.5))
    flip_prob: float = field(default=0.0, metadata={"min": 0.0, "max": 1.0})
    grayscale_prob: float = field(default=0.0, metadata={"min": 0.0, "max": 1.0})
    feature_stride: int = field(default=16, metadata={"min": 1})
    reject_all_padding: bool = True
    masks: bool = False
    distance_map: bool = False
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


MAX_COUNT = 10**9
"""Most samples an epoch may draw (a typo such as 1e23 would otherwise overflow deep in torch)."""
MAX_EPOCHS = 100_000


@dataclass
class DataConfig:
    """Datasets, sampling, processing and loading; ``batch_size`` is per process (per GPU)."""

    train: list[DatasetEntry] = field(default_factory=list)
    val: list[DatasetEntry] = field(default_factory=list)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    processing: ProcessingConfig = field(default_factory=ProcessingConfig)
    batch_size: int = field(default=16, metadata={"min": 1, "max": 1 << 16})
    num_workers: int = field(default=4, metadata={"min": 0, "max": 1024})
    persistent_workers: bool = True
    samples_per_epoch: int = field(default=60000, metadata={"min": 1, "max": MAX_COUNT})
    val_samples_per_epoch: int = field(default=10000, metadata={"min": 1, "max": MAX_COUNT})


@dataclass
class TrainConfig:
    """Optimisation, precision, reproducibility, validation, logging and checkpoint settings.

    ``lr_multipliers`` maps parameter-name prefixes to lr factors (longest prefix wins), e.g.
    ``{backbone: 0.1}``. ``trainable`` keeps only parameters whose names contain one of the
    strings trainable (empty: all that the network leaves trainable). Schedulers step once per
    epoch: ``step`` multiplies by ``gamma`` at ``step_fraction·epochs``, ``multistep`` at each of
    ``milestones``, ``cosine`` anneals to ``min_lr``.
    """

    epochs: int = field(default=10, metadata={"min": 1, "max": MAX_EPOCHS})
    optimizer: Literal["adamw", "adam", "sgd"] = "adamw"
    lr: float = field(default=1e-4, metadata={"min": 0.0})
    weight_decay: float = field(default=1e-4, metadata={"min": 0.0})
    momentum: float = field(default=0.9, metadata={"min": 0.0, "max": 1.0})
    lr_multipliers: dict[str, float] = field(default_factory=dict)
    trainable: list[str] = field(default_factory=list)
    grad_clip: float = field(default=0.0, metadata={"min": 0.0})  # max grad norm; 0 = off
    scheduler: Literal["constant", "step", "multistep", "cosine"] = "step"
    step_fraction: float = field(default=0.8, metadata={"min": 0.0, "max": 1.0})
    milestones: list[int] = field(default_factory=list, metadata={"min": 1, "max": MAX_EPOCHS})
    gamma: float = field(default=0.1, metadata={"min": 0.0})
    min_lr: float = field(default=0.0, metadata={"min": 0.0})
    amp: Literal["off", "fp16", "bf16"] = "off"
    compile: bool = False
    seed: int = 42
    deterministic: bool = False
    val_every: int = field(default=0, metadata={"min": 0})  # epochs; 0 = no validation
    log_every: int = field(default=10, metadata={"min": 1})  # iterations between step logs
    keep_last: int = field(default=2, metadata={"min": 1})  # checkpoints kept besides milestones
    keep_every: int = field(default=0, metadata={"min": 0})  # also keep every N-th epoch; 0 = none
    keep_epochs: list[int] = field(default_factory=list, metadata={"min": 1, "max": MAX_EPOCHS})  # also keep these
    find_unused_parameters: bool = False  # DDP: needed when some trainable parameters get no grad
    init_from: Optional[str] = None  # checkpoint whose weights initialise the net (strict=False)


@dataclass
class StageConfig:
    """One training stage: a name, overrides merged over the experiment, and its initialisation.

    With ``init_from_previous`` a stage after the first starts from the previous stage's last
    checkpoint (strict=False, missing/unexpected keys logged).
    """

    name: str = ""
    set: dict[str, Any] = field(default_factory=dict)
    init_from_previous: bool = True


@dataclass
class TrainingExperiment:
    """Fields every trainable experiment has; tracker schemas subclass it and add ``model``.

    ``network`` and ``actor`` are NETWORKS / ACTORS names. The network is built with
    :meth:`network_kwargs` (the ``model`` section when the schema has one).
    """

    network: str = ""
    actor: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    stages: list[StageConfig] = field(default_factory=list)

    def network_kwargs(self) -> dict[str, Any]:
        """Constructor kwargs of the network: the plain ``model`` section, or none."""
        model = getattr(self, "model", None)
        return to_dict(model) if model is not None else {}


def load_training_experiment(tracker: str, name: str, overrides: Iterable[str] = (), stage: int = 1) -> Any:
    """Load ``experiments/<tracker>/<name>.yaml`` for training ``stage`` (1-based).

    The stage's ``set`` mapping is merged over the file, then the ``--set`` overrides over that
    (so a command-line override always wins), and the result is validated by the tracker's
    registered schema. Every stage is validated, so a typo in stage 2 fails before stage 1 runs.
    """
    path = experiment_path(tracker, name)
    schema = TRACKER_SCHEMAS.get(tracker)
    raw = load_yaml(path)
    override_data = parse_overrides(overrides)
    stages = raw.get("stages") or []
    count = max(1, len(stages))
    if not 1 <= stage <= count:
        raise ConfigError(f"{path}: stage {stage} does not exist: the experiment has {count} stage(s)")
    configs = []
    for number in range(1, count + 1):
        merged = raw
        if stages:
            entry = stages[number - 1]
            stage_set = entry.get("set", {}) if isinstance(entry, dict) else {}
            if isinstance(stage_set, dict) and "stages" in stage_set:
                raise ConfigError(f"{path}: stage {number} cannot override 'stages'")
            merged = merge_dicts(raw, stage_set) if isinstance(stage_set, dict) else raw
        merged = merge_dicts(merged, override_data)
        where = f"{path} (stage {number})" if stages else str(path)
        configs.append(from_dict(schema, merged, key_origin(override_data, where)))
    return configs[stage - 1]


def num_stages(config: TrainingExperiment) -> int:
    """Number of stages (an experiment without a ``stages`` list has one)."""
    return max(1, len(config.stages))
