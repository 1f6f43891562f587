"""Train a tracker: ``python ltr/run_training.py <tracker> <config> [--resume] [--set k=v ...]``.

Loads ``experiments/<tracker>/<config>.yaml`` (the tracker's registered schema), builds the
datasets (TRAIN_DATASETS), the sampler and processing, the network (NETWORKS) and the actor
(ACTORS), then trains every stage in order (or only ``--stage N``). Checkpoints go to
``<workspace>/checkpoints/<tracker>/<config>[/stage<N>]``, TensorBoard logs to
``<workspace>/tensorboard/...``. Under ``torchrun`` each process trains one rank (DDP).
"""
from __future__ import annotations

import argparse
import inspect
import logging
import sys
from pathlib import Path
from typing import Sequence

from ltr.actors import ACTORS
from ltr.admin.logging import setup_logging
from ltr.admin.paths import MissingPathError, Paths, load_paths
from ltr.admin.seeding import derive_seed, seed_everything
from ltr.config.experiment import TRACKER_SCHEMAS, experiment_path, list_experiments
from ltr.config.loader import ConfigError, to_dict
from ltr.config.train import DatasetEntry, TrainingExperiment, load_training_experiment, num_stages
from ltr.data.loader import build_loader
from ltr.data.processing import EpisodeProcessing
from ltr.data.sampler import EpisodeSampler
from ltr.dataset.base import TRAIN_DATASETS, BaseVideoDataset
from ltr.models.backbone.pretrained import without_pretrained
from ltr.models.registry import NETWORKS
from ltr.trainers.checkpoints import CheckpointFolder
from ltr.trainers.distributed import DistContext, init_distributed, shutdown
from ltr.trainers.trainer import Trainer

logger = logging.getLogger("ltr.run_training")


def build_dataset(entry: DatasetEntry, paths: Paths) -> BaseVideoDataset:
    """Construct one TRAIN_DATASETS entry; ``root`` / ``cache_dir`` come from the paths config."""
    cls = TRAIN_DATASETS.get(entry.name)
    kwargs = dict(entry.kwargs)
    params = inspect.signature(cls).parameters
    if "root" in params and kwargs.get("root") is None:
        key = entry.paths_key or getattr(cls, "paths_key", None) or entry.name.split("_")[0]
        try:
            kwargs["root"] = paths.dataset_root(key)
        except MissingPathError as err:
            raise MissingPathError(f"training dataset '{entry.name}': {err}") from None
    if "cache_dir" in params and kwargs.get("cache_dir") is None:
        kwargs["cache_dir"] = paths.cache
    return cls(**kwargs)


def build_sampler(experiment: TrainingExperiment, entries: list[DatasetEntry], paths: Paths,
                  samples: int, seed: int) -> EpisodeSampler:
    """Episode sampler over the config's dataset mix, with the generic processing."""
    datasets = [build_dataset(entry, paths) for entry in entries]
    return EpisodeSampler(datasets, experiment.data.sampler, EpisodeProcessing(experiment.data.processing),
                          weights=[e.weight for e in entries], samples_per_epoch=samples, seed=seed)


def stage_dir(root: Path, tracker: str, config: str, stage: int, stages: int) -> Path:
    """Output folder of one stage under ``root`` (checkpoints or TensorBoard); a config given as
    a YAML path is named by its file stem (``/x/my_run.yaml`` -> ``<root>/<tracker>/my_run``)."""
    name = Path(config).stem if config.endswith((".yaml", ".yml")) else config
    folder = root / tracker / name
    return folder / f"stage{stage}" if stages > 1 else folder


def train_stage(tracker: str, config: str, stage: int, overrides: Sequence[str], resume: bool,
                paths: Paths, dist: DistContext) -> Path:
    """Train one stage; returns its checkpoint folder."""
    experiment = load_training_experiment(tracker, config, overrides, stage)
    stages = num_stages(experiment)
    folder = CheckpointFolder(stage_dir(paths.checkpoints, tracker, config, stage, stages))
    init_from = None
    if stage > 1 and experiment.stages[stage - 1].init_from_previous:
        previous = CheckpointFolder(stage_dir(paths.checkpoints, tracker, config, stage - 1, stages)).latest()
        if previous is None:
            raise FileNotFoundError(f"stage {stage} starts from stage {stage - 1}, which has no checkpoint; "
                                    f"train it first (--stage {stage - 1})")
        init_from = previous
    data, train_cfg = experiment.data, experiment.train
    if not data.train:
        raise ValueError(f"{tracker}/{config}: data.train lists no training dataset")
    for key, samples in (("samples_per_epoch", data.samples_per_epoch),
                         ("val_samples_per_epoch", data.val_samples_per_epoch if data.val else None)):
        if samples is not None and samples < data.batch_size * dist.world_size:  # drop_last: no batch at all
            raise ConfigError(f"{tracker}/{config}: data.{key} {samples} is less than one batch "
                              f"(data.batch_size {data.batch_size} x {dist.world_size} processes)")
    kwargs = experiment.network_kwargs()
    if init_from is None and train_cfg.init_from is None:
        check = getattr(getattr(experiment, "model", None), "pretrained_problem", None)
        problem = check() if check is not None else None
        if problem:
            raise ConfigError(f"{experiment_path(tracker, config)}: {problem}")
    else:  # the weights come from the previous stage / train.init_from: no download, no "random init" warning
        kwargs = without_pretrained(kwargs)
    pin = dist.device.type == "cuda"
    loader_args = dict(batch_size=data.batch_size, num_workers=data.num_workers, seed=train_cfg.seed,
                       rank=dist.rank, world_size=dist.world_size,
                       persistent_workers=data.persistent_workers, pin_memory=pin)
    train_loader = build_loader(build_sampler(experiment, data.train, paths, data.samples_per_epoch, train_cfg.seed),
                                **loader_args)
    val_loader = None
    if data.val and train_cfg.val_every:
        val_seed = train_cfg.seed + 1_000_003  # validation episodes differ from training ones
        val_sampler = build_sampler(experiment, data.val, paths, data.val_samples_per_epoch, val_seed)
        val_loader = build_loader(val_sampler, **{**loader_args, "drop_last": False})
    # the net after the data: a missing dataset fails before any ImageNet download
    seed_everything(derive_seed(train_cfg.seed))  # the same initial weights on every rank and run
    net = NETWORKS.build(experiment.network, **kwargs)
    actor = ACTORS.build(experiment.actor, net=net, config=experiment)
    trainer = Trainer(
        actor, train_cfg, train_loader, folder.folder, experiment.network, experiment.network_kwargs(),
        experiment=to_dict(experiment), val_loader=val_loader,
        tensorboard_dir=stage_dir(paths.tensorboard, tracker, config, stage, stages),
        dist=dist, init_from=init_from,
    )
    logger.info("%s/%s stage %d/%d: %d epochs of %d samples, %d process(es) on %s -> %s", tracker, config,
                stage, stages, train_cfg.epochs, data.samples_per_epoch, dist.world_size, dist.device, folder.folder)
    trainer.train(resume=resume)
    return folder.folder


def run(tracker: str, config: str, overrides: Sequence[str] = (), resume: bool = False,
        workspace: str | None = None, stage: int | None = None, device: str | None = None) -> list[Path]:
    """Train ``stage`` (or every stage in order, resuming finished ones); the checkpoint folders."""
    NETWORKS.names()  # imports the network modules, which also register their experiment schemas
    paths = load_paths(workspace)
    dist = init_distributed(device)
    setup_logging(dist.rank)
    try:
        first = load_training_experiment(tracker, config, overrides, stage or 1)
        stages = [stage] if stage else list(range(1, num_stages(first) + 1))
        folders = []
        for number in stages:
            # a stage already finished is skipped when resuming; a later one starts from it
            folders.append(train_stage(tracker, config, number, overrides, resume or number > stages[0],
                                       paths, dist))
        return folders
    finally:
        shutdown(dist)


def list_trackers() -> str:
    """Registered experiment schemas and their experiment files."""
    NETWORKS.names()
    return "\n".join(f"{name}: {', '.join(list_experiments(name)) or '(no experiment files)'}"
                     for name in TRACKER_SCHEMAS.names())


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ltr-train", description=__doc__.splitlines()[0])
    parser.add_argument("tracker", nargs="?", help="tracker name, e.g. bit, jcat, tiny_net")
    parser.add_argument("config", nargs="?", help="experiment name under experiments/<tracker>/ or a YAML path")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set train.lr=1e-4 (repeatable)")
    parser.add_argument("--workspace", help="output root (default: paths file / $PYTRACKING_WORKSPACE)")
    parser.add_argument("--stage", type=int, help="train only this stage (1-based)")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when available")
    parser.add_argument("--list", action="store_true", help="list trackers and their experiments")
    args = parser.parse_args(argv)
    if not args.list and not (args.tracker and args.config):
        parser.error("tracker and config are required (or --list)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry ``ltr-train``."""
    args = parse_args(argv)
    if args.list:
        print(list_trackers())
        return 0
    run(args.tracker, args.config, args.overrides, args.resume, args.workspace, args.stage, args.device)
    return 0


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
