"""The project's JCAT tracker against the official one (github.com/Yang428/JCAT): CPU ms per frame and per stage.

    python benchmarks/jcat_vs_official.py --official /path/to/JCAT [--frames 10] [--pairs 8] [--threads N]
                                         [--uncalibrated] [--no-amp]

``--official`` names a local checkout of the official code (loaded by ``benchmarks/jcat_peer.py``;
nothing is downloaded or vendored). The trackers compute with one set of random weights in the
release layout: the project's ``jcat/default`` experiment (ResNet-50, the official rules) builds
it, and the official segmentation net and filter ResNet-50 load the same tensors. Each runs with
its own default parameters on the same 640x480 frames (a square moving over noise,
``bit_track_speed.moving_square``), batch 1. Rows: ``project`` (the tracker as it loads, with its
inference fast paths, fp32), ``project_plain`` (the plain network, ``PYTRACKING_INFERENCE=plain``),
``project_bf16`` (``tracking.amp``; only on a CPU with native bf16, skipped with ``--no-amp``) and
``official`` (fp32, the only precision its code has).

The amount of work does depend on the weights: a tracker turns a mask into a box and stores
memory-bank samples only for a region over 50 crop pixels, which plain random weights do not
segment (those stages would idle on both sides), and a region that moved or rescaled the box
would not follow the target, so the two trackers' states would drift apart and their gated
work (filter and memory-bank updates) with them. So the target logit's last bias
(``segm_predictor.post0_1.1.bias[0]``) is offset until the reference crop's region around its
centre is ``REGION_SIDE`` x the target's side: both trackers then segment a region every frame,
run the mask-to-box steps and store memory-bank samples on their schedules, while their area
check (against the reference mask, which the box limits) rejects the region, so the filter alone
moves the box and both stay in lock-step (same boxes within a pixel or two, same updates).
``--uncalibrated`` keeps the plain random weights.

Both are initialised on frame 0 and track one untimed warm-up clip of ``--frames`` frames; then
each of ``--pairs`` interleaved A/B rounds (``speed_table.interleaved``) has each tracker track
the next clip of ``--frames`` frames, so both track the same frames with the same frame numbers
(the filter's CG every 10th frame and the memory bank's schedule fall alike). Printed: the median
over rounds of the per-frame ms of each, the median over rounds of the project/official ratio
(``speed_table.median_ratio``), and a per-stage table (mean ms and calls per frame over all
timed frames, as ``jcat_track_speed.py``: on a loaded machine its totals can differ from the
medians), the stages timed by wrapping each tracker's functions from the outside:

==============  =============================================  ============================================
stage           project (``jcat_track_speed.instrument``)      official
==============  =============================================  ============================================
crop            ``sample_patch``, ``sample_target``,           ``features.preprocessing.sample_patch``,
                ``to_network_input`` (normalisation included)  ``prutils.sample_target``, ``numpy_to_torch``
                                                               (the whole frame, every frame)
backbone        ``net.extract_features`` (filter and           the filter ResNet-50's ``forward`` and
                segmentation crops)                            ``segm_net.extract_backbone_features``
filter          ``dcf.response``, ``dcf.localize``             ``project_sample``, ``apply_filter``,
                                                               ``localize_target``
filter_opt      ``dcf.add_sample``, ``dcf.optimize_filter``    ``update_memory``, ``filter_optimizer.run``
segment_head    ``net.segment``                                ``segm_net.segm_predictor``
mask_to_box     ``fill_contour``, ``contour_rotated_rect``,    ``fit_bbox_to_mask``, ``poly_to_aabbox``,
                ``fit_bbox_to_mask``, ``area_preserving_box``  ``cv2.minAreaRect/boxPoints/drawContours``
memory_bank     ``_add_memory_sample`` (all inside it)         ``update_segm_sample`` (all inside it)
other           the rest                                       the rest
==============  =============================================  ============================================

"other" holds on both sides the softmax, threshold and ``findContours`` of the mask and the
bookkeeping; on the project's side also the frame-size mask (``SegmentationResult.frame_mask``),
on the official side also the image normalisation of its crops (inline numpy for the
segmentation crops, inside ``ATOMResNet50.extract`` for the filter's).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # thread policy (ltr/admin/threads.py): idle OpenMP threads sleep; set before torch loads
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ltr.admin.threads import prefer_passive_waiting

    prefer_passive_waiting()

import argparse
import logging
import math
import os
import statistics
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import cv2
import numpy as np
import torch

from ltr.admin.cli_args import positive_int
from ltr.admin.threads import add_threads_argument, set_threads
from ltr.admin.checkpoint import save_checkpoint
from ltr.config.experiment import load_experiment
from ltr.models.jcat.network import jcat_kwargs
from ltr.models.precision import cpu_has_native_bf16
from pytracking.tracker.jcat.tracker import JcatTracker

from bit_track_speed import HEIGHT, WIDTH, moving_square
from jcat_peer import TRACKER_MODULE, initialize_official, load_official_jcat, require_checkout, track_official
from jcat_track_speed import STAGES, StageClock, instrument
from speed_table import interleaved, load_average, median_ratio, plain_inference, ratio_quartiles

TARGET_BIAS = "segm_predictor.post0_1.1.bias"  # the release layout's last BatchNorm; channel 0 = target
CALIBRATION_STEPS = 30  # bisection steps of the target-logit offset
REGION_SIDE = 2.5  # x the target's side: over 3x its area, which the trackers' area check rejects


class CountingClock(StageClock):
    """A CPU :class:`StageClock` that also counts the calls timed into each stage."""

    def __init__(self) -> None:
        super().__init__(torch.device("cpu"))
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, stage: str, fn: Callable[..., Any], outer: bool = False) -> Callable[..., Any]:
        timed = super().wrap(stage, fn, outer)

        def counted(*args: Any, **kwargs: Any) -> Any:
            if outer or not self.outer:
                self.calls[stage] += 1
            return timed(*args, **kwargs)
        return counted


def official_targets(tracker: Any) -> list[tuple[Any, str, str, bool]]:
    """``(owner, attribute, stage, outer)`` of every official function timed (after initialisation)."""
    modules = tracker.checkout_modules
    jcat = modules[TRACKER_MODULE]
    filter_net = tracker.params.features_filter.features[0].net
    return [
        (modules["pytracking.features.extractor"], "sample_patch", "crop", False),
        (modules["ltr.data.processing_utils"], "sample_target", "crop", False),
        (jcat, "numpy_to_torch", "crop", False),
        (filter_net, "forward", "backbone", False),
        (tracker.segm_net, "extract_backbone_features", "backbone", False),
        (tracker, "project_sample", "filter", False),
        (tracker, "apply_filter", "filter", False),
        (tracker, "localize_target", "filter", False),
        (tracker, "update_memory", "filter_opt", False),
        (tracker.filter_optimizer, "run", "filter_opt", False),
        (tracker.segm_net.segm_predictor, "forward", "segment_head", False),
        (jcat, "fit_bbox_to_mask", "mask_to_box", False),
        (tracker, "poly_to_aabbox", "mask_to_box", False),
        *((jcat.cv2, name, "mask_to_box", False) for name in ("minAreaRect", "boxPoints", "drawContours")),
        (tracker, "update_segm_sample", "memory_bank", True),
    ]


def instrument_official(tracker: Any, clock: StageClock) -> Callable[[], None]:
    """Wrap the official tracker's per-frame functions (module globals and instance attributes); returns the undo."""
    targets = official_targets(tracker)
    saved = [(owner, name, vars(owner).get(name)) for owner, name, _, _ in targets]
    for owner, name, stage, outer in targets:
        setattr(owner, name, clock.wrap(stage, getattr(owner, name), outer=outer))

    def undo() -> None:
        for owner, name, original in reversed(saved):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
    return undo


def clip_runner(track: Callable[[np.ndarray], Any], clips: list[list[np.ndarray]]) -> Callable[[], None]:
    """A callable tracking the next clip of ``clips`` at each call."""
    remaining = iter(clips)

    def run() -> None:
        for image in next(remaining):
            track(image)
    return run


def centre_region_side(margin: np.ndarray, offset: float) -> float:
    """sqrt of the minimum-area rectangle's area of the region of ``margin + offset > 0`` holding the
    crop's centre (0 when the centre is not in one)."""
    _, labels = cv2.connectedComponents((margin + offset > 0).astype(np.uint8))
    label = labels[margin.shape[0] // 2, margin.shape[1] // 2]
    if label == 0:
        return 0.0
    _, (w, h), _ = cv2.minAreaRect(cv2.findNonZero((labels == label).astype(np.uint8)))
    return math.sqrt(w * h)


def calibrate_target_logit(project: JcatTracker, image: np.ndarray, box: list[float]) -> float:
    """Offset the target logit (bisection) so that in the project's reference segmentation at
    initialisation the region around the crop centre is ``REGION_SIDE`` x the target's side; returns the offset."""
    captured: list[torch.Tensor] = []
    segment = project.net.segment

    def capture(*args: Any, **kwargs: Any) -> torch.Tensor:
        captured.append(segment(*args, **kwargs))
        return captured[-1]
    project.net.segment = capture
    try:
        project.initialize(image, {"init_bbox": box})
    finally:
        del project.net.segment
    margin = (captured[0][0, 0] - captured[0][0, 1]).float().numpy()
    seg = project.cfg.segmentation
    side = REGION_SIDE * seg.output_size / seg.search_area_scale
    low, high = -float(margin.max()), -float(margin.min())
    for _ in range(CALIBRATION_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if centre_region_side(margin, middle) < side else (low, middle)
    with torch.no_grad():
        project.net.state_dict()[TARGET_BIAS][0] += high
    return high


@dataclass
class Contender:
    """One tracker with its calls: ``initialize(image, box)``, ``track(image)``, ``instrument(clock) -> undo``
    and ``bank()`` (the memory bank's sample count)."""

    initialize: Callable[[np.ndarray, list[float]], Any]
    track: Callable[[np.ndarray], Any]
    instrument: Callable[[StageClock], Callable[[], None]]
    bank: Callable[[], int]


def project_contender(tracker: JcatTracker) -> Contender:
    return Contender(lambda image, box: tracker.initialize(image, {"init_bbox": box}),
                     lambda image: tracker.track(image, {}), lambda clock: instrument(tracker, clock),
                     lambda: len(tracker.memory))


def build_contenders(official_root: Path, first: tuple[np.ndarray, list[float]] | None, amp: bool,
                     workdir: Path) -> dict[str, Contender]:
    """The project's ``jcat/default`` tracker with its default fast paths, the same with the plain
    network, with ``amp`` also under ``tracking.amp``, and the official tracker, all computing with the
    same weights; with ``first`` (frame, box) the target logit is calibrated on it
    (:func:`calibrate_target_logit`). The weights pass through a checkpoint in ``workdir``, since
    a network optimised for inference has no checkpoint layout."""
    torch.manual_seed(0)
    experiment = load_experiment("jcat", "default", ["tracking.device=cpu"])
    with plain_inference():
        plain = JcatTracker(experiment)
    if first is not None:
        calibrate_target_logit(plain, *first)
    checkpoint = save_checkpoint(workdir / "jcat.pth", plain.net, "jcat", jcat_kwargs(experiment.model))
    separate = plain.filter_backbone.state_dict() if plain.filter_backbone is not None else None
    official = load_official_jcat(official_root, plain.net.state_dict(), separate)
    contenders = {"project": project_contender(JcatTracker(experiment, checkpoint)),
                  "project_plain": project_contender(plain)}
    if amp:
        amp_experiment = load_experiment("jcat", "default", ["tracking.device=cpu", "tracking.amp=true"])
        contenders["project_bf16"] = project_contender(JcatTracker(amp_experiment, checkpoint))
    contenders["official"] = Contender(lambda image, box: initialize_official(official, image, box),
                                       lambda image: track_official(official, image),
                                       lambda clock: instrument_official(official, clock),
                                       lambda: len(official.up_masks))
    return contenders


def run(official_root: Path, frames: int, pairs: int, calibrate: bool, amp: bool
        ) -> tuple[dict[str, list[float]], dict[str, CountingClock], dict[str, int]]:
    """Seconds per round of each tracker, their stage clocks (timed rounds only) and final memory-bank sizes."""
    sequence = moving_square(1 + frames * (pairs + 1))
    with tempfile.TemporaryDirectory() as workdir:
        contenders = build_contenders(official_root, sequence[0] if calibrate else None, amp, Path(workdir))
    names = list(contenders)
    images = [image for image, _ in sequence]
    clips = [images[1 + i * frames:1 + (i + 1) * frames] for i in range(pairs + 1)]
    for contender in contenders.values():
        contender.initialize(images[0], sequence[0][1])
        for image in clips[0]:  # warm-up, untimed
            contender.track(image)
    clocks = {name: CountingClock() for name in names}
    undos = [contenders[name].instrument(clocks[name]) for name in names]
    try:
        times = interleaved({name: clip_runner(contenders[name].track, clips[1:]) for name in names}, pairs, warmup=0)
    finally:
        for undo in undos:
            undo()
    return times, clocks, {name: contender.bank() for name, contender in contenders.items()}


def stage_rows(times: dict[str, list[float]], clocks: dict[str, CountingClock], timed_frames: int) -> list[str]:
    """The per-stage table: mean ms per frame and calls per frame of each tracker over all timed frames."""
    names = list(times)
    rows = [f"| stage | {' | '.join(f'{n} ms | {n} calls' for n in names)} |", "|---|" + "---|---|" * len(names)]
    ms = {n: {s: 1e3 * clocks[n].totals[s] / timed_frames for s in STAGES} for n in names}
    for name in names:
        ms[name]["total"] = 1e3 * sum(times[name]) / timed_frames
        ms[name]["other"] = ms[name]["total"] - sum(ms[name][s] for s in STAGES)
    for stage in (*STAGES, "other", "total"):
        cells = []
        for name in names:
            calls = clocks[name].calls.get(stage)
            cells.append(f"{ms[name][stage]:.1f} | {calls / timed_frames:.2f}" if calls else f"{ms[name][stage]:.1f} |")
        rows.append(f"| {stage} | {' | '.join(cells)} |")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", type=Path, help="local checkout of github.com/Yang428/JCAT (required)")
    parser.add_argument("--frames", type=positive_int, default=10, help="frames per round (clip length, default 10)")
    parser.add_argument("--pairs", type=positive_int, default=8, help="interleaved A/B rounds (default 8)")
    parser.add_argument("--uncalibrated", action="store_true",
                        help="plain random weights (empty masks: no mask-to-box, no memory-bank samples)")
    parser.add_argument("--no-amp", action="store_true",
                        help="skip the project_bf16 row (tracking.amp; only on CPUs with native bf16 anyway)")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    if args.official is None:
        parser.error("--official PATH is required: a local checkout of the official JCAT code "
                     "(git clone https://github.com/Yang428/JCAT); this script downloads nothing")
    try:
        require_checkout(args.official)
    except FileNotFoundError as err:
        parser.error(str(err))
    logging.disable(logging.WARNING)  # random-init warnings
    threads = set_threads(args.threads)
    print(f"torch {torch.__version__}, {threads} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
          f"{WIDTH}x{HEIGHT} frames, {args.pairs} rounds of {args.frames} frames after a warm-up clip, "
          f"{'plain' if args.uncalibrated else 'calibrated'} random weights, load average {load_average()}", flush=True)
    amp = not args.no_amp and cpu_has_native_bf16()
    times, clocks, banks = run(args.official, args.frames, args.pairs, not args.uncalibrated, amp)
    print("median ms per frame: " + ", ".join(f"{n} {1e3 * statistics.median(t) / args.frames:.0f}" for n, t in times.items()))
    for name in times:
        if name != "official":
            q1, q3 = ratio_quartiles(times, name, "official")
            print(f"{name}/official {median_ratio(times, name, 'official'):.3f} (median of {args.pairs} round ratios; "
                  f"quartiles {q1:.3f}-{q3:.3f})")
    print("\n".join(stage_rows(times, clocks, args.frames * args.pairs)))
    print("memory bank at the end (samples): " + ", ".join(f"{n} {b}" for n, b in banks.items())
          + f"; load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
