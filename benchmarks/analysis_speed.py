"""Analysis time for a LaSOT-sized load: 280 sequences x 2,500 frames x 10 trackers.

Random but plausible boxes (GT drifting around the image, predictions noisy copies with some
lost frames and zero-size boxes); absent frames as in LaSOT. Prints the in-memory protocol time
for each box protocol (best of ``--repeat``) and, with ``--files``, the time to write the same
results as RunDir files and to load and score them (LaSOT protocol).

    python benchmarks/analysis_speed.py [--sequences 280] [--frames 2500] [--trackers 10] [--files]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ltr.admin.cli_args import positive_int
from pytracking.analysis.loading import load_method
from pytracking.analysis.protocols import PROTOCOLS, evaluate
from pytracking.evaluation.results import RunDir
from pytracking.evaluation.sequence import Sequence


def make_load(n_seq: int, n_frames: int, n_trackers: int, seed: int = 0):
    """Sequences and ``{tracker: {seq: boxes}}`` with plausible boxes."""
    rng = np.random.default_rng(seed)
    sequences, results = [], {f"tracker{t}": {} for t in range(n_trackers)}
    for s in range(n_seq):
        size = rng.uniform(20, 120, 2)
        centre = np.cumsum(rng.normal(0, 2, (n_frames, 2)), axis=0) + rng.uniform(200, 400, 2)
        scale = np.exp(np.cumsum(rng.normal(0, 0.005, (n_frames, 1)), axis=0))
        wh = np.round(size * scale)
        gt = np.round(np.c_[centre - wh / 2, wh])
        visible = rng.random(n_frames) > 0.1
        name = f"seq-{s}"
        sequences.append(Sequence(name, "lasot", [], gt, target_visible=visible, image_size=(640, 480)))
        for t, tracker in enumerate(results):
            noise = rng.normal(0, 3 + t, (n_frames, 4))
            pred = gt + noise
            lost = rng.random(n_frames) < 0.05 * (1 + t % 3)
            pred[lost, :2] += rng.uniform(-200, 200, (int(lost.sum()), 2))
            pred[:, 2:] = np.maximum(pred[:, 2:], 1)
            pred[rng.random(n_frames) < 0.001, 2] = 0
            results[tracker][name] = pred
    return sequences, results


def time_protocols(sequences, results, repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` seconds per box protocol to score every tracker (the machine is shared)."""
    out = {}
    for name, info in PROTOCOLS.items():
        if info.kind != "boxes" or name in ("uav", "nfs"):
            continue
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            for tracker, preds in results.items():
                evaluate(name, sequences, preds, tracker=tracker)
            best = min(best, time.perf_counter() - start)
        out[name] = best
    return out


def time_files(sequences, results) -> tuple[float, float]:
    """Seconds to write all results as RunDir files, and to load them back and score them (LaSOT)."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = {tracker: RunDir(Path(tmp), "lasot", tracker, "default") for tracker in results}
        start = time.perf_counter()
        for tracker, preds in results.items():
            for name, boxes in preds.items():
                runs[tracker].write(name, boxes, np.full(len(boxes), 0.01), {"tracker": tracker})
        written = time.perf_counter() - start
        start = time.perf_counter()
        for tracker, run in runs.items():
            method = load_method(tracker, [run], sequences, "boxes")
            evaluate("lasot", sequences, method.results, tracker=tracker)
        return written, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=positive_int, default=280)
    parser.add_argument("--frames", type=positive_int, default=2500)
    parser.add_argument("--trackers", type=int, default=10)
    parser.add_argument("--repeat", type=positive_int, default=3, help="report the best of this many timings")
    parser.add_argument("--files", action="store_true", help="also time writing, then loading and scoring, files")
    args = parser.parse_args()
    sequences, results = make_load(args.sequences, args.frames, args.trackers)
    frames = args.sequences * args.frames * args.trackers
    print(f"load: {args.sequences} sequences x {args.frames} frames x {args.trackers} trackers = {frames:,} frames")
    for name, seconds in time_protocols(sequences, results, args.repeat).items():
        print(f"  {name:12s} in memory: {seconds:6.3f} s  ({frames / seconds / 1e6:5.1f} M frames/s)")
    if args.files:
        written, loaded = time_files(sequences, results)
        print(f"  files: write {written:.1f} s; load + score (lasot) {loaded:.1f} s")


if __name__ == "__main__":
    main()
