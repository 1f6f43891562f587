"""Issue 16's speed table from one run: every ratio measured as interleaved A/B pairs, medians.

    python benchmarks/speed_table.py [--stark /path/to/Stark] [--pairs 16] [--threads N] [--no-jcat]

Rows (random weights: speed does not depend on them; 640x480 frames; batch 1, fp32 CPU):

* BIT-101 network forward per frame (search backbone + transformer + heads, templates cached):
  fast paths (``ltr.models.inference``) vs the plain network, and vs STARK-ST101 when ``--stark``
  names a local checkout of github.com/researchmm/Stark (loaded by ``benchmarks/stark_peer.py``);
* BIT-101 full ``track()`` (crop, pre-processing, network, post-processing) likewise; on a CPU
  with native bf16 also with ``tracking.amp`` (bf16 autocast), against STARK in fp32 and in bf16;
* JCAT (ResNet-50, 384x384 crop) per-frame network forward: test-crop backbone + segmentation
  head with the reference cached, fast vs plain;
* MACs per frame of BIT-101 (and STARK-ST101), the achieved GFLOP/s of the fast BIT-101 forward
  and its fraction of the measured GEMM peak (a 2048x2048x2048 fp32 matmul timed in the same pairs).

Each "pair" round runs every variant of a row once, in a rotated order; a ratio is the median
over rounds of (time A / time B) of the same round, so load changes shared by both cancel. The
machine's load is printed before and after. Times are medians too but only the ratios are meant
to be compared across runs.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ltr.admin.threads import prefer_passive_waiting

    prefer_passive_waiting()

import torch

from ltr.admin.threads import add_threads_argument, set_threads
from ltr.models.inference import ENV_VAR, PLAIN, default_paths, describe, optimize_for_inference
from ltr.models.precision import cpu_has_native_bf16
from ltr.profile_model import build_bit, count_macs, load_bit_config, make_inputs

from bit_track_speed import moving_square  # the same 640x480 moving-square frames

GEMM = 2048


def interleaved(variants: dict[str, Callable[[], Any]], rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """Seconds of each variant per round; each round runs all variants once in a rotated order."""
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    with torch.inference_mode():
        for r in range(warmup + rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                start = time.perf_counter()
                variants[name]()
                if r >= warmup:
                    times[name].append(time.perf_counter() - start)
    return times


@contextlib.contextmanager
def plain_inference() -> Iterator[None]:
    """Trackers built inside load their networks without the fast paths (``PYTRACKING_INFERENCE=plain``)."""
    previous = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = "plain"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[ENV_VAR]
        else:
            os.environ[ENV_VAR] = previous


def median_ratio(times: dict[str, list[float]], a: str, b: str) -> float:
    """Median over rounds of time(a) / time(b)."""
    return statistics.median(x / y for x, y in zip(times[a], times[b]))


def ratio_quartiles(times: dict[str, list[float]], a: str, b: str) -> tuple[float, float]:
    """First and third quartiles over rounds of time(a) / time(b): how far one round's ratio strays."""
    ratios = [x / y for x, y in zip(times[a], times[b])]
    if len(ratios) < 2:
        return ratios[0], ratios[0]
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return q1, q3


def print_row(what: str, times: dict[str, list[float]], a: str, b: str, note: str = "") -> None:
    ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    print(f"| {what} | {a} {ms[a]:.0f} ms | {b} {ms[b]:.0f} ms | {median_ratio(times, a, b):.3f} | {note} |", flush=True)


def bit_rows(args: argparse.Namespace, stark: Any) -> None:
    """Network forward and track() rows for BIT-101 (plain, fast) and STARK-ST101; MACs and GEMM peak."""
    cpu = torch.device("cpu")
    torch.manual_seed(0)
    plain = build_bit(load_bit_config("default"), cpu)
    paths = default_paths()
    fast = optimize_for_inference(copy.deepcopy(plain), paths)
    inputs = make_inputs(plain, cpu)
    x_fast = inputs.search_img.contiguous(memory_format=paths.memory_format)

    def forward(net: Any, image: torch.Tensor) -> Any:
        return net.forward_head(inputs.templates, net.forward_backbone(image, inputs.search_mask), True, True)

    a, b = torch.randn(GEMM, GEMM), torch.randn(GEMM, GEMM)
    variants = {"BIT-101 fast": lambda: forward(fast, x_fast), "BIT-101 plain": lambda: forward(plain, inputs.search_img),
                "GEMM": lambda: a @ b}
    if stark is not None:
        templates, search = stark.network_inputs()
        variants["STARK-ST101"] = lambda: stark.forward(templates, search)
    times = interleaved(variants, args.pairs)
    macs = count_macs(lambda: forward(plain, inputs.search_img))
    print_row("BIT-101 network forward, templates cached", times, "BIT-101 fast", "BIT-101 plain", describe(paths))
    if stark is not None:
        stark_macs = count_macs(lambda: stark.forward(templates, search))
        note = f"{macs / 1e9:.1f} vs {stark_macs / 1e9:.1f} GMACs ({macs / stark_macs:.2f}x)"
        print_row("BIT-101 vs STARK-ST101 network forward", times, "BIT-101 fast", "STARK-ST101", note)
        print_row("(plain) BIT-101 vs STARK-ST101 network forward", times, "BIT-101 plain", "STARK-ST101", "")
    gemm_gflops = 2 * GEMM ** 3 / statistics.median(times["GEMM"]) / 1e9
    for name in ("BIT-101 fast", "BIT-101 plain"):
        achieved = 2 * macs / statistics.median(times[name]) / 1e9
        print(f"{name}: {macs / 1e9:.2f} GMACs per frame, {achieved:.1f} GFLOP/s = "
              f"{achieved / gemm_gflops:.1%} of the measured GEMM peak ({gemm_gflops:.1f} GFLOP/s, fp32 {GEMM}^3)")

    from pytracking.tracker.bit import BitTracker

    frames = moving_square(args.pairs + 3)
    params = BitTracker.load_params("bit", "default", ["tracking.checkpoint=null", "tracking.device=cpu"])
    with plain_inference():
        trackers: dict[str, Any] = {"BIT-101 plain": BitTracker(params)}
    trackers["BIT-101 fast"] = BitTracker(params)
    bf16 = cpu_has_native_bf16()
    if bf16:  # tracking.amp: the tracker's own bf16 autocast
        trackers["BIT-101 fast bf16"] = BitTracker(BitTracker.load_params(
            "bit", "default", ["tracking.checkpoint=null", "tracking.device=cpu", "tracking.amp=true"]))
    if stark is not None:
        from stark_peer import cpu_only

        trackers["STARK-ST101"] = stark.tracker()
        if bf16:
            trackers["STARK-ST101 bf16"] = stark.tracker()
    with torch.inference_mode():
        context = cpu_only() if stark is not None else torch.inference_mode()
        with context:
            for tracker in trackers.values():
                tracker.initialize(frames[0][0], {"init_bbox": frames[0][1]})
            step = iter(range(1, len(frames)))
            frame_of_round = {"i": 1}

            def runner(tracker: Any, autocast: bool) -> Callable[[], Any]:
                def call() -> Any:
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                        return tracker.track(frames[frame_of_round["i"]][0], {})
                return call

            variants = {name: runner(t, name == "STARK-ST101 bf16") for name, t in trackers.items()}
            times = {name: [] for name in variants}
            names = list(variants)
            for r in range(len(frames) - 1):
                frame_of_round["i"] = next(step)
                order = names[r % len(names):] + names[:r % len(names)]
                for name in order:
                    start = time.perf_counter()
                    variants[name]()
                    if r >= 1:
                        times[name].append(time.perf_counter() - start)
    print_row("BIT-101 full track()", times, "BIT-101 fast", "BIT-101 plain", "crop, pre/post-processing included")
    if bf16:
        print_row("BIT-101 full track(), bf16 autocast vs fp32", times, "BIT-101 fast bf16", "BIT-101 fast",
                  "tracking.amp (native bf16 CPU)")
    if stark is not None:
        print_row("BIT-101 vs STARK-ST101 full track()", times, "BIT-101 fast", "STARK-ST101", "fp32 both")
        if bf16:
            print_row("BIT-101 bf16 vs STARK-ST101 fp32 full track()", times, "BIT-101 fast bf16", "STARK-ST101",
                      "each code's CPU default vs BIT's amp")
            print_row("BIT-101 vs STARK-ST101 full track(), both bf16", times, "BIT-101 fast bf16",
                      "STARK-ST101 bf16", "STARK under torch.autocast")


def jcat_rows(args: argparse.Namespace) -> None:
    """JCAT ResNet-50 per-frame network forward (test-crop backbone + head, reference cached), fast vs plain."""
    from ltr.models.jcat import JcatModelConfig, JcatNet

    torch.manual_seed(0)
    plain = JcatNet(JcatModelConfig(backbone="resnet50")).eval()
    paths = default_paths()
    fast = optimize_for_inference(copy.deepcopy(plain), paths)
    crop = 384
    image = torch.randn(1, 3, crop, crop)
    mask = torch.zeros(1, 1, crop, crop)
    mask[..., 150:230, 140:250] = 1
    dist = torch.rand(1, 1, crop, crop)
    with torch.inference_mode():
        refs = {"plain": plain.extract_features(image.flip(-1)),
                "fast": fast.extract_features(image.flip(-1).contiguous(memory_format=paths.memory_format))}
    x_fast = image.contiguous(memory_format=paths.memory_format)
    variants = {
        "JCAT fast": lambda: fast.segment(fast.extract_features(x_fast), refs["fast"], mask, dist),
        "JCAT plain": lambda: plain.segment(plain.extract_features(image), refs["plain"], mask, dist),
        "JCAT backbone fast": lambda: fast.extract_features(x_fast),
        "JCAT backbone plain": lambda: plain.extract_features(image),
    }
    times = interleaved(variants, args.pairs)
    print_row("JCAT (R50) network forward per frame", times, "JCAT fast", "JCAT plain", describe(paths))
    print_row("JCAT (R50) backbone per crop", times, "JCAT backbone fast", "JCAT backbone plain", "")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stark", type=Path, help="local checkout of github.com/researchmm/Stark (optional)")
    parser.add_argument("--pairs", type=int, default=16, help="interleaved rounds per row (default 16)")
    parser.add_argument("--no-jcat", action="store_true", help="skip the JCAT rows")
    parser.add_argument("--no-bit", action="store_true", help="skip the BIT rows")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # random-init warnings
    threads = set_threads(args.threads)
    stark = None
    if args.stark is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from stark_peer import StarkPeer

        try:
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                stark = StarkPeer(args.stark)
        except FileNotFoundError as err:
            parser.error(str(err))
    print(f"torch {torch.__version__}, {threads} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
          f"{args.pairs} interleaved rounds per row, load average {load_average()} (default paths: "
          f"{describe(default_paths())}; plain = {describe(PLAIN)})")
    print("| what | A | B | median A/B | note |\n|---|---|---|---|---|")
    if not args.no_bit:
        bit_rows(args, stark)
    if not args.no_jcat:
        jcat_rows(args)
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
