"""Run an experiment: sequences x trackers x runs as jobs in worker processes, resumable and shardable.

* A job is one (tracker configuration, run, sequence). Its seed is derived from its identity,
  and each job runs in a fresh process forked from a clean server (some trackers, e.g. OpenCV's
  MIL, keep hidden process-wide random state), so a killed and restarted experiment produces
  the same boxes as an uninterrupted one, whatever order the jobs ran in.
* Results are written per sequence through :class:`RunDir` (atomic files, sidecar last). A
  finished sequence is skipped on the next start; a partial one never counts and is recomputed.
* ``shard=(i, n)`` takes every n-th job of the canonical (sorted) job list, so n machines
  together cover every job exactly once.
* VOT datasets (``vot2018``, ``vot2020``) run their protocol instead: supervised resets or
  multistart anchor runs, written as trajectories (``pytracking.evaluation.vot_runner``).
* A job that raises is recorded (message and traceback) in an errors JSON and reported at the
  end; the other jobs still run. A job whose worker process dies (SIGSEGV, ``os._exit``) is
  recorded the same way as a crashed job (``pytracking.evaluation.pool``), never a hang.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import multiprocessing as mp
import os
import sys
import time
import traceback
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np

from ltr.admin.atomic import atomic_write_text
from ltr.admin.paths import Paths, load_paths
from ltr.config.loader import save_config
from pytracking.evaluation.datasets import (
    DATASET_MODULES,
    EVAL_DATASETS,
    EvalDataset,
    load_dataset,
)
from pytracking.evaluation.experiment import DatasetEntry, Experiment
from pytracking.evaluation.pool import run_in_processes
from pytracking.evaluation.progress import Progress
from pytracking.evaluation.raw_results import read_raw_results
from pytracking.evaluation.results import RunDir
from pytracking.evaluation.tracker import Tracker, TrackerSpec
from pytracking.evaluation.vot_runner import is_finished as vot_finished
from pytracking.evaluation.vot_runner import run_vot_job, vot_kind
from pytracking.evaluation.vot_runner import sidecar_file as vot_sidecar
from pytracking.tracker.base import TRACKER_MODULES

logger = logging.getLogger(__name__)
RAW_CONFIG = "raw"  # config folder of results-only methods


@dataclass(frozen=True)
class Job:
    """One unit of work; ``tracker`` is None for a results-only method read from ``raw_folder``."""

    label: str
    config: str
    run: int
    sequence: str
    seed: int
    tracker: TrackerSpec | None = None
    raw_folder: str | None = None
    display_name: str | None = None

    @property
    def key(self) -> str:
        return f"{self.label}/{self.config}/run_{self.run:03d}/{self.sequence}"


@dataclass(frozen=True)
class Context:
    """What every worker needs besides the job: where the data and the results are, and the
    sidecar facts of each tracker configuration (computed once: hashing a checkpoint is slow)."""

    dataset: dict[str, Any]
    results_root: str
    benchmark: str
    code_version: str
    tracker_meta: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Outcome:
    """The result of one job: ``status`` is ``done`` or ``error`` (with message and traceback)."""

    key: str
    status: str
    seconds: float = 0.0
    message: str = ""
    traceback: str = ""


@dataclass
class RunSummary:
    """What a run did; ``errors`` are the failed jobs' outcomes."""

    benchmark: str
    results_root: Path
    planned: int
    skipped: int
    done: int
    errors: list[Outcome] = field(default_factory=list)
    errors_file: Path | None = None


def job_seed(identity: str, base_seed: int = 0) -> int:
    """A 31-bit seed from a job's identity (stable across processes, Python versions and restarts)."""
    digest = hashlib.sha256(f"{base_seed}/{identity}".encode()).hexdigest()
    return int(digest[:8], 16) & 0x7FFFFFFF


def build_dataset(entry: DatasetEntry, sequences: Iterable[str] = (), attribute: str | None = None,
                  paths: Paths | None = None) -> EvalDataset:
    """The experiment's dataset, restricted to ``sequences`` and/or an ``attribute`` subset.

    Without ``entry.root`` the root comes from ``paths`` (default: the paths file), so a
    ``--workspace`` also moves workspace-relative roots such as the synthetic benchmark's.
    """
    root = entry.root or (paths or load_paths()).dataset_root(EVAL_DATASETS.get(entry.name).paths_key)
    dataset = load_dataset(entry.name, split=entry.split, root=root, **entry.options)
    sequences = list(sequences)
    if sequences:
        dataset = dataset.select(sequences)
    if attribute:
        dataset = dataset.subset(attribute)
    return dataset


def plan_jobs(experiment: Experiment, dataset: EvalDataset, trackers: list[Tracker]) -> list[Job]:
    """Every (tracker, run, sequence) job of the experiment, sorted by key (the canonical order)."""
    names = dataset.sequence_names()
    jobs = []
    for tracker, entry in zip(trackers, experiment.trackers):
        for run in range(entry.runs):
            for seq in names:
                key = f"{dataset.results_name}/{tracker.spec.name}/{tracker.config_name}/{run}/{seq}"
                jobs.append(Job(tracker.spec.name, tracker.config_name, run, seq, job_seed(key, experiment.seed),
                                tracker=tracker.spec, display_name=tracker.display_name))
    for raw in experiment.results_only:
        jobs += [Job(raw.name, RAW_CONFIG, 0, seq, 0, raw_folder=raw.folder, display_name=raw.display_name or raw.name)
                 for seq in names]
    return sorted(jobs, key=lambda j: j.key)


def shard_jobs(jobs: list[Job], index: int, count: int) -> list[Job]:
    """Shard ``index`` of ``count`` (0-based): every ``count``-th job of the canonical order."""
    if not 0 <= index < count:
        raise ValueError(f"shard {index}/{count}: need 0 <= index < count")
    return sorted(jobs, key=lambda j: j.key)[index::count]


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(1, 4)``: shards are numbered 1..n on the command line."""
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text}: expected I/N, e.g. 1/4") from None
    if not 1 <= i <= n:
        raise ValueError(f"--shard {text}: need 1 <= I <= N")
    return i - 1, n


# --- worker side -----------------------------------------------------------------------------
_DATASETS: dict[str, EvalDataset] = {}
_TRACKERS: dict[TrackerSpec, Tracker] = {}


def _init_worker(gpus: tuple[str, ...] = (), started: Any = None) -> None:
    """One thread per job and deterministic cuDNN: workers are the parallelism, timings stay
    comparable, and results do not depend on the machine's core count (called again in each job
    once the tracker has imported torch, so workers=0 and the spawn fallback are pinned too).
    With ``gpus``, the worker is pinned to one of them (round-robin over worker starts, counted
    in the shared ``started``) through CUDA_VISIBLE_DEVICES, before anything initialises CUDA."""
    if gpus:
        with started.get_lock():
            slot, started.value = started.value, started.value + 1
        os.environ["CUDA_VISIBLE_DEVICES"] = gpus[slot % len(gpus)]
    cv2.setNumThreads(1)
    if "torch" in sys.modules:  # preloaded by a tracker module
        torch = sys.modules["torch"]
        torch.set_num_threads(1)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Pin the job to one thread (:func:`_init_worker`) and restore the caller's thread counts
    afterwards, so an in-process job (``workers=0``) leaves the calling program as it was."""
    torch = sys.modules.get("torch")
    saved = (cv2.getNumThreads(), torch.get_num_threads() if torch is not None else None)
    _init_worker()
    try:
        yield
    finally:
        cv2.setNumThreads(saved[0])
        if torch is not None:
            torch.set_num_threads(saved[1])


def _dataset(ctx: Context) -> EvalDataset:
    key = json.dumps(ctx.dataset, sort_keys=True)
    if key not in _DATASETS:
        _DATASETS[key] = load_dataset(ctx.dataset["name"], split=ctx.dataset["split"], root=ctx.dataset["root"],
                                      **ctx.dataset["options"])
    return _DATASETS[key]


def execute_job(job: Job, ctx: Context) -> Outcome:
    """Run one job and write its results; any exception becomes an ``error`` outcome."""
    start = time.perf_counter()
    rundir = RunDir(Path(ctx.results_root), ctx.benchmark, job.label, job.config, job.run)
    try:
        seq = _dataset(ctx).sequence(job.sequence)
        meta: dict[str, Any] = {"benchmark": ctx.benchmark, "dataset": ctx.dataset, "sequence": job.sequence,
                                "run": job.run, "seed": job.seed, "frames": len(seq),
                                "gt_sha256": ground_truth_hash(seq.ground_truth),
                                "code_version": ctx.code_version, "display_name": job.display_name,
                                "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
        if job.tracker is None:
            boxes, source = read_raw_results(Path(job.raw_folder), job.sequence, _dataset(ctx).sequence_names())
            meta.update(tracker=job.label, config=RAW_CONFIG, results_only=True, source=str(source), fps=None)
            rundir.write(job.sequence, boxes, np.full(len(boxes), np.nan), meta)
        else:
            if job.tracker not in _TRACKERS:
                _TRACKERS[job.tracker] = Tracker(job.tracker)
            tracker = _TRACKERS[job.tracker]
            kind = vot_kind(ctx.dataset["name"])
            if kind is not None:
                meta.update(ctx.tracker_meta[f"{job.label}/{job.config}"], results_only=False)
                with _one_thread():
                    run_vot_job(tracker.cls(tracker.params, tracker.checkpoint), seq, rundir, kind, job.seed, meta)
                return Outcome(job.key, "done", time.perf_counter() - start)
            with _one_thread():
                out = tracker.run_sequence(seq, seed=job.seed)
            total = float(np.sum(out["times"]))
            meta.update(ctx.tracker_meta[f"{job.label}/{job.config}"], results_only=False,
                        fps=len(seq) / total if total > 0 else None)
            rundir.write(job.sequence, out["boxes"], out["times"], meta, masks=out["segmentation"])
    except Exception as err:  # noqa: BLE001 - recorded and reported; the other jobs go on
        return Outcome(job.key, "error", time.perf_counter() - start, f"{type(err).__name__}: {err}",
                       traceback.format_exc())
    return Outcome(job.key, "done", time.perf_counter() - start)


def _execute_packed(args: tuple[Job, Context]) -> Outcome:
    return execute_job(*args)


# --- parent side -----------------------------------------------------------------------------
def _process_context() -> mp.context.BaseContext:
    """forkserver with the tracker modules preloaded (cheap fresh processes); spawn where unavailable."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["pytracking.evaluation.runner", *DATASET_MODULES, *TRACKER_MODULES])
    return context


def worker_gpus(gpus: Iterable[int]) -> tuple[str, ...]:
    """CUDA_VISIBLE_DEVICES values of the ``--gpus`` indices: indices into the parent's own
    CUDA_VISIBLE_DEVICES list when it is set (as CUDA numbers them), else physical ids."""
    gpus = [int(g) for g in gpus]
    visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    if not visible or not gpus:
        return tuple(str(g) for g in gpus)
    bad = [g for g in gpus if not 0 <= g < len(visible)]
    if bad:
        raise ValueError(f"--gpus {bad}: CUDA_VISIBLE_DEVICES={','.join(visible)} shows {len(visible)} GPU(s), "
                         f"numbered 0..{len(visible) - 1}")
    return tuple(visible[g] for g in gpus)


def run_jobs(jobs: list[Job], ctx: Context, workers: int, gpus: Iterable[int] = ()) -> list[Outcome]:
    """Run ``jobs`` in ``workers`` processes, a fresh one per job, each pinned to one of ``gpus``
    (none: every worker sees what this process sees); ``workers=0`` runs them in this process
    (for debugging: job order can then leak into trackers with process-wide state)."""
    outcomes = []
    with Progress(len(jobs), ctx.benchmark) as bar:  # tqdm on a terminal, log lines otherwise
        if workers == 0:
            for job in jobs:
                outcomes.append(execute_job(job, ctx))
                bar.update(outcomes[-1].status == "error")
        elif jobs:
            def finished(_: tuple[Job, Context], outcome: Outcome) -> None:
                outcomes.append(outcome)
                bar.update(outcome.status == "error")

            def crashed(item: tuple[Job, Context], message: str) -> None:
                finished(item, Outcome(item[0].key, "error", 0.0, message, ""))

            context = _process_context()
            initializer = functools.partial(_init_worker, worker_gpus(gpus), context.Value("i", 0))
            run_in_processes(_execute_packed, [(job, ctx) for job in jobs], workers, context,
                             finished, crashed, initializer=initializer)
    return outcomes


def errors_file(results_root: Path, benchmark: str, experiment: str, shard: tuple[int, int]) -> Path:
    """Where a run (or shard) records its failed jobs."""
    suffix = f"_shard{shard[0] + 1}of{shard[1]}" if shard[1] > 1 else ""
    return results_root / benchmark / "errors" / f"{experiment}{suffix}.json"


def _finished(rundir: RunDir, job: Job, dataset: str) -> bool:
    """Whether ``job`` has complete results (VOT protocol trajectories for tracker jobs on VOT datasets)."""
    kind = vot_kind(dataset) if job.tracker is not None else None
    return vot_finished(rundir, job.sequence, kind) if kind else rundir.is_finished(job.sequence)


class StaleResultsError(RuntimeError):
    """Finished results in a run folder were made with other tracker parameters than the current ones."""


def _identity(tracker: Tracker) -> dict[str, str | None]:
    """What a finished result must have been made with: the parameter hash and the weights' hash."""
    return {"parameters": tracker.config_hash, "weights": tracker.metadata()["checkpoint_sha256"]}


def ground_truth_hash(gt: np.ndarray) -> str:
    """SHA-256 of a sequence's ground truth (float64 ``N x 4``, NaN included): the dataset content
    a finished result was made against."""
    return hashlib.sha256(np.ascontiguousarray(gt, dtype=np.float64).tobytes()).hexdigest()


def _read_sidecar(sidecar: Path) -> dict[str, Any] | None:
    """A finished sequence's sidecar, or None (with a warning) when it is damaged: the sequence is then
    recomputed instead of blocking the resume."""
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        logger.warning("%s: unreadable results sidecar (%s); recomputing the sequence", sidecar, err)
        return None
    return meta if isinstance(meta, dict) else None


def _check_same_dataset(sidecar: Path, meta: dict[str, Any], dataset: dict[str, Any], gt_hash: str) -> None:
    """Refuse to resume into results made on another dataset (another root, split, or other ground
    truth for the sequence): they would be scored against ground truth they were never run on."""
    found = meta.get("dataset") or {}
    differences = [f"{key} {found.get(key)!r} (now {dataset[key]!r})" for key in ("name", "split")
                   if key in found and found[key] != dataset[key]]
    if "root" in found and Path(str(found["root"])).resolve() != Path(str(dataset["root"])).resolve():
        differences.append(f"root {found['root']} (now {dataset['root']})")
    if meta.get("gt_sha256") not in (None, gt_hash):
        differences.append("other ground truth for this sequence")
    if differences:
        raise StaleResultsError(
            f"{sidecar}: made on another dataset: {'; '.join(differences)}. Results of different dataset roots "
            f"are not mixed: use another --workspace for this dataset, or --force to recompute")


def _check_same_config(sidecar: Path, now: dict[str, str | None], meta: dict[str, Any] | None = None) -> None:
    """Refuse to resume into results made with other parameters or weights (e.g. after editing the
    config's YAML or retraining the checkpoint file): mixing them would report a blend of two.
    ``sidecar`` is the finished sequence's JSON (per protocol kind for VOT runs), ``now`` the
    configuration's :func:`_identity`."""
    meta = meta if meta is not None else json.loads(sidecar.read_text(encoding="utf-8"))
    found = {"parameters": meta.get("config_hash"), "weights": meta.get("checkpoint_sha256")}
    for what in ("parameters", "weights"):
        if found[what] is not None and found[what] != now[what]:
            raise StaleResultsError(
                f"{sidecar}: made with tracker {what} {found[what][:12]}, but the configuration now has "
                f"{str(now[what])[:12]}. Delete {sidecar.parent}, run with --force, or use another --workspace")


def run_experiment(experiment: Experiment, workspace: str | Path | None = None, shard: tuple[int, int] = (0, 1),
                   force: bool = False) -> RunSummary:
    """Run (or resume) an experiment; returns what was done. Never raises for a failing job."""
    from ltr.admin.checkpoint import code_version

    paths = load_paths(workspace)
    dataset = build_dataset(experiment.dataset, experiment.sequences, experiment.attribute, paths)
    trackers = [Tracker(TrackerSpec(t.name, t.config, t.checkpoint, tuple(t.overrides), t.display_name))
                for t in experiment.trackers]
    if not dataset.sequence_names():
        raise ValueError(f"experiment '{experiment.name}': no sequences selected from dataset "
                         f"'{experiment.dataset.name}' (check 'sequences' and 'attribute')")
    jobs = shard_jobs(plan_jobs(experiment, dataset, trackers), *shard)
    results_root = paths.results
    dataset_id = {**asdict(experiment.dataset), "root": str(dataset.root)}
    gt_hashes: dict[str, str] = {}
    save_config(experiment, results_root / dataset.results_name / "experiments" / f"{experiment.name}.yaml")
    identities = {(t.spec.name, t.config_name): _identity(t) for t in trackers}  # hashed once per config
    kind = vot_kind(experiment.dataset.name)
    pending = []
    for job in jobs:
        rundir = RunDir(results_root, dataset.results_name, job.label, job.config, job.run)
        if force or not _finished(rundir, job, experiment.dataset.name):
            pending.append(job)
            continue
        sidecar = vot_sidecar(rundir, job.sequence, kind) if kind and job.tracker else rundir.sidecar_file(job.sequence)
        meta = _read_sidecar(sidecar)
        if meta is None:
            pending.append(job)
            continue
        if job.sequence not in gt_hashes:
            gt_hashes[job.sequence] = ground_truth_hash(dataset.sequence(job.sequence).ground_truth)
        _check_same_dataset(sidecar, meta, dataset_id, gt_hashes[job.sequence])
        if job.tracker is not None:
            _check_same_config(sidecar, identities[(job.label, job.config)], meta)
    logger.info("%s: %d jobs in this shard, %d already finished", experiment.name, len(jobs), len(jobs) - len(pending))
    version = code_version() if pending else ""  # imports torch: only worth it when there is work
    metas = {f"{t.spec.name}/{t.config_name}": t.metadata() for t in trackers} if pending else {}
    ctx = Context(dataset_id, str(results_root), dataset.results_name, version, metas)
    outcomes = run_jobs(pending, ctx, experiment.workers, experiment.gpus)
    errors = sorted((o for o in outcomes if o.status == "error"), key=lambda o: o.key)
    path = errors_file(results_root, dataset.results_name, experiment.name, shard)
    if errors:
        atomic_write_text(path, json.dumps([asdict(e) for e in errors], indent=2))
    elif path.is_file():
        path.unlink()
    return RunSummary(dataset.results_name, results_root, len(jobs), len(jobs) - len(pending),
                      len(outcomes) - len(errors), errors, path if errors else None)
