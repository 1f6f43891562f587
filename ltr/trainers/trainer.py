"""The training loop: optimizer, AMP, gradient clipping, DDP, logging, checkpoints, exact resume.

Exact resume rests on three facts: episodes are seeded by ``(seed, epoch, index)`` (see
``ltr.data.sampler``), the global RNGs (dropout, ...) are reseeded from ``(seed, epoch, rank)``
at the start of every epoch, and each epoch's checkpoint holds the weights and the optimizer,
scheduler and scaler states. A run killed at any point and restarted with ``resume=True``
redoes the interrupted epoch exactly as the uninterrupted run would have.

Two guards keep a run from silently going wrong: a non-finite loss (or non-finite weights at the
end of an epoch) stops training with :class:`NonFiniteError` *before* that epoch's checkpoint is
written, and ``resume=True`` with a configuration that differs from the checkpoint's (other than
``train.epochs``, which may grow to train longer) is refused with :class:`ResumeError` naming the
changed keys, since the run would otherwise continue under settings its checkpoints never had.
"""
from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from ltr.actors.base import BaseActor
from ltr.admin.checkpoint import load_checkpoint, save_checkpoint, set_rng_state
from ltr.admin.seeding import derive_seed, seed_everything, set_deterministic
from ltr.config.loader import save_config
from ltr.config.train import TrainConfig
from ltr.data.loader import set_loader_epoch
from ltr.trainers.checkpoints import CheckpointFolder
from ltr.trainers.distributed import DistContext, barrier, reduce_stats, reduce_sum
from ltr.trainers.monitor import Monitor, StatsMeter
from ltr.trainers.optim import apply_trainable_filter, build_optimizer, build_scheduler

logger = logging.getLogger(__name__)
SAMPLER_STATS = ("skipped_corrupt", "skipped_rejected")
AMP_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


RESUMABLE_CHANGES = ("train.epochs",)  # keys a resumed run may change


class ResumeError(RuntimeError):
    """Starting a run would overwrite checkpoints, or resuming found nothing usable."""


def _check_resume_payload(path: Path, payload: dict[str, Any], epoch: int) -> None:
    """A checkpoint to resume from must hold every training state, for the epoch its file name says."""
    lacking = [key for key in ("optimizer", "scheduler", "rng", "extra") if not isinstance(payload.get(key), dict)]
    if lacking:
        raise ResumeError(f"{path}: cannot resume from it: no {', '.join(lacking)} state (a weights-only export?); "
                          "move it out of the checkpoint folder or start a new run")
    if type(payload.get("epoch")) is not int or payload["epoch"] != epoch:
        raise ResumeError(f"{path}: records epoch {payload.get('epoch')!r}, its name says {epoch}; the file was "
                          "renamed or damaged")


class NonFiniteError(RuntimeError):
    """The loss or the weights became NaN/inf; no checkpoint is written for the epoch."""


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def config_changes(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Dotted keys whose value differs between two plain config dicts, except :data:`RESUMABLE_CHANGES`."""
    old, new = _flatten(saved), _flatten(now)
    return sorted(k for k in set(old) | set(new) if old.get(k, "<unset>") != new.get(k, "<unset>")
                  and k not in RESUMABLE_CHANGES)


class Trainer:
    """Trains ``actor.net`` with the settings of a :class:`~ltr.config.train.TrainConfig`.

    ``network_name`` / ``network_kwargs`` go into every checkpoint so the net can be rebuilt
    from the file alone; ``experiment`` (a plain dict) is saved as ``config.yaml`` beside them.
    """

    def __init__(
        self,
        actor: BaseActor,
        config: TrainConfig,
        train_loader: DataLoader,
        checkpoint_dir: str | Path,
        network_name: str,
        network_kwargs: dict[str, Any],
        experiment: dict[str, Any] | None = None,
        val_loader: DataLoader | None = None,
        tensorboard_dir: str | Path | None = None,
        dist: DistContext | None = None,
        init_from: str | Path | None = None,
    ) -> None:
        self.actor = actor
        self.config = config
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.folder = CheckpointFolder(checkpoint_dir)
        self.network_name = network_name
        self.network_kwargs = dict(network_kwargs)
        self.experiment = experiment or {}
        self.dist = dist or DistContext()
        self.init_from = init_from or config.init_from
        self.monitor = Monitor(tensorboard_dir, self.dist.is_main)
        self.net: nn.Module = actor.net  # the bare module: checkpoints and the optimizer use it
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: Any = None
        self.scaler: torch.amp.GradScaler | None = None
        self.epoch = 0
        self.global_step = 0

    # ------------------------------------------------------------------ setup

    def _setup(self, resume: bool) -> None:
        cfg = self.config
        set_deterministic(cfg.deterministic)
        seed_everything(derive_seed(cfg.seed, 0, self.dist.rank))
        self.actor.to(self.dist.device)
        if self.init_from and not (resume and self.folder.latest()):
            self._load_weights(self.init_from)
        trainable = apply_trainable_filter(self.net, cfg.trainable)
        logger.info("%d trainable parameter tensors (%d elements)", len(trainable),
                    sum(p.numel() for p in self.net.parameters() if p.requires_grad))
        self.optimizer = build_optimizer(self.net, cfg)
        self.scheduler = build_scheduler(self.optimizer, cfg)
        self.scaler = torch.amp.GradScaler(self.dist.device.type, enabled=cfg.amp == "fp16")
        latest = self.folder.latest()
        if resume and latest is not None:
            self._restore(latest)
        elif latest is not None:
            raise ResumeError(f"{self.folder.folder} already holds checkpoints (latest {latest.name}); "
                              "pass --resume to continue that run, or use another workspace")
        elif resume:
            logger.info("no checkpoint in %s yet: starting from epoch 1", self.folder.folder)
        wrapped = self.net
        if self.dist.distributed:
            device_ids = [self.dist.device.index] if self.dist.device.type == "cuda" else None
            wrapped = DistributedDataParallel(wrapped, device_ids=device_ids,
                                              find_unused_parameters=cfg.find_unused_parameters)
        if cfg.compile:
            wrapped = torch.compile(wrapped)
        self.actor.net = wrapped
        if self.dist.is_main:
            save_config(self.experiment, self.folder.config_path)

    def _load_weights(self, path: str | Path) -> None:
        """Initialise the net from a checkpoint's weights (strict=False, differences logged); a
        checkpoint sharing no tensor with the net (another network's) is refused, not ignored."""
        payload = load_checkpoint(path, map_location=self.dist.device)
        result = self._load_state(path, payload["state_dict"], strict=False)
        if len(result.missing_keys) == len(self.net.state_dict()):
            raise ResumeError(f"{path}: holds none of this network's tensors (a "
                              f"{payload['network'].get('name', '?')!r} checkpoint?); nothing would be initialised")
        logger.info("initialised weights from %s (missing: %s; unexpected: %s)", path,
                    result.missing_keys or "none", result.unexpected_keys or "none")

    def _load_state(self, path: str | Path, state: dict[str, torch.Tensor], strict: bool) -> Any:
        """``net.load_state_dict``; weights of other shapes raise ResumeError naming ``path``."""
        try:
            return self.net.load_state_dict(state, strict=strict)
        except RuntimeError as err:
            first = str(err).strip().splitlines()
            raise ResumeError(f"{path}: weights do not fit the network ({' '.join(first[:3])[:300]})") from None

    def _restore(self, path: Path) -> None:
        payload = load_checkpoint(path, map_location=self.dist.device)
        _check_resume_payload(path, payload, self.folder.epoch_of(path))
        saved = payload.get("config") or {}
        changed = config_changes(saved, self.experiment) if saved and self.experiment else []
        if changed:
            old, new = _flatten(saved), _flatten(self.experiment)
            shown = "; ".join(f"{k}: {old.get(k, '<unset>')!r} -> {new.get(k, '<unset>')!r}" for k in changed[:5])
            raise ResumeError(f"{path}: --resume with a changed configuration ({shown}"
                              f"{'; ...' if len(changed) > 5 else ''}). Only train.epochs may change on resume; "
                              "undo the change, or start a new run in another workspace")
        self._load_state(path, payload["state_dict"], strict=True)
        try:
            self.optimizer.load_state_dict(payload["optimizer"])
            self.scheduler.load_state_dict(payload["scheduler"])
            if payload.get("scaler"):
                self.scaler.load_state_dict(payload["scaler"])
            set_rng_state(payload["rng"])
            self.global_step = int(payload["extra"].get("global_step", 0))
        except (ValueError, TypeError, KeyError, IndexError, RuntimeError) as err:
            raise ResumeError(f"{path}: the optimizer, scheduler, RNG or step state cannot be restored "
                              f"({type(err).__name__}: {str(err).strip()[:200]}); the file is damaged or was not "
                              "written by a training run") from None
        self.epoch = payload["epoch"]
        logger.info("resumed from %s (epoch %d done)", path, self.epoch)

    # ------------------------------------------------------------------ loop

    def train(self, resume: bool = False) -> nn.Module:
        """Run the remaining epochs; returns the trained (bare) network."""
        self._setup(resume)
        try:
            for epoch in range(self.epoch + 1, self.config.epochs + 1):
                self.epoch = epoch
                seed_everything(derive_seed(self.config.seed, epoch, self.dist.rank))
                self._train_epoch(epoch)
                self.scheduler.step()
                if self.val_loader is not None and self.config.val_every and epoch % self.config.val_every == 0:
                    self._validate(epoch)
                self._save(epoch)
        finally:
            self.monitor.close()
        return self.net

    def _autocast(self) -> contextlib.AbstractContextManager:
        amp = self.config.amp
        if amp == "off":
            return contextlib.nullcontext()
        return torch.autocast(self.dist.device.type, dtype=AMP_DTYPES[amp])

    def _train_epoch(self, epoch: int) -> None:
        cfg = self.config
        self.actor.train(True)
        set_loader_epoch(self.train_loader, epoch)
        meter, skipped = StatsMeter(), {k: 0.0 for k in SAMPLER_STATS}
        start = time.perf_counter()
        params = [p for p in self.net.parameters() if p.requires_grad]
        bar = self.monitor.progress(self.train_loader, len(self.train_loader), f"epoch {epoch}")
        for batch in bar:
            for key in SAMPLER_STATS:
                skipped[key] += float(batch.pop(key).sum()) if key in batch else 0.0
            with self._autocast():
                loss, stats = self.actor(batch)
            if not torch.isfinite(loss.detach()).all():
                raise NonFiniteError(
                    f"epoch {epoch}, step {self.global_step + 1}: the loss is {float(loss.detach())}; training "
                    f"stopped before writing this epoch's checkpoint (last good one: {self.folder.latest()}). "
                    "Lower train.lr, set train.grad_clip, or check the data")
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if cfg.grad_clip:
                self.scaler.unscale_(self.optimizer)
                stats["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip))
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.global_step += 1
            stats = {"loss": float(loss.detach()), **stats}
            meter.update(stats, _batch_size(batch))
            if self.global_step % cfg.log_every == 0:
                self.monitor.scalars("train", stats, self.global_step)
                self.monitor.scalars("lr", self._learning_rates(), self.global_step)
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{stats['loss']:.4f}")
        averages = reduce_stats(self.dist, meter.sums, meter.count)
        for key, value in skipped.items():
            averages[key] = reduce_sum(self.dist, value)
        averages["samples_per_s"] = meter.count * self.dist.world_size / max(time.perf_counter() - start, 1e-9)
        self.monitor.scalars("train_epoch", averages, epoch)
        self.monitor.scalars("lr_epoch", self._learning_rates(), epoch)
        if self.dist.is_main:
            logger.info("epoch %d/%d: %s", epoch, cfg.epochs, _format(averages))

    @torch.no_grad()
    def _validate(self, epoch: int) -> None:
        self.actor.train(False)
        set_loader_epoch(self.val_loader, epoch)
        meter = StatsMeter()
        for batch in self.monitor.progress(self.val_loader, len(self.val_loader), f"val {epoch}"):
            for key in SAMPLER_STATS:
                batch.pop(key, None)
            with self._autocast():
                loss, stats = self.actor(batch)
            meter.update({"loss": float(loss), **stats}, _batch_size(batch))
        averages = reduce_stats(self.dist, meter.sums, meter.count)
        self.monitor.scalars("val", averages, epoch)
        if self.dist.is_main:
            logger.info("validation after epoch %d: %s", epoch, _format(averages))

    def _learning_rates(self) -> dict[str, float]:
        return {group.get("name", str(i)): group["lr"] for i, group in enumerate(self.optimizer.param_groups)}

    def _save(self, epoch: int) -> None:
        """Rank 0 writes the epoch's checkpoint and prunes old ones; every rank waits for it."""
        bad = [name for name, p in self.net.named_parameters() if not torch.isfinite(p.detach()).all()]
        if bad:
            raise NonFiniteError(f"epoch {epoch}: {len(bad)} weight tensors hold NaN/inf (first: {bad[0]}); training "
                                 f"stopped before writing {self.folder.path(epoch)}. Lower train.lr or set "
                                 "train.grad_clip")
        barrier(self.dist)
        if self.dist.is_main:
            save_checkpoint(self.folder.path(epoch), self.net, self.network_name, self.network_kwargs,
                            config=self.experiment, epoch=epoch, optimizer=self.optimizer,
                            scheduler=self.scheduler, scaler=self.scaler,
                            extra={"global_step": self.global_step})
            self.folder.prune(self.config)
        barrier(self.dist)


def _batch_size(batch: dict[str, Any]) -> int:
    first = next(v for v in batch.values() if isinstance(v, torch.Tensor))
    return int(first.shape[0])


def _format(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in sorted(values.items()))
