"""Does a BIT net use its template? Its boxes and scores with the sequence's own template against another's.

    python benchmarks/bit_template_use.py [--config tiny] [--checkpoint PATH] [--split val]
        [--frames 5 10 20] [--workspace DIR]

For every sequence of the real-imagery benchmark's split (generated under the workspace on first
use, as the main job does), the net sees the search crops of frames ``--frames``, cut around the
true box as the tracker cuts them, twice: with the templates of the sequence's first frame, and
with those of another sequence (another object, in another scene). A net that matches its
template moves its box away and lowers its score with the wrong one; a net that has only learnt
to find the salient object near the crop centre returns the same box (IoU near 1) and score, and
cannot tell a look-alike from its target. Prints the mean IoU of the own-template boxes with the
truth, the mean and median IoU between the two boxes, and the mean score with either template.
"""
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # thread policy (ltr/admin/threads.py): idle OpenMP threads sleep; set before torch loads
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ltr.admin.threads import prefer_passive_waiting

    prefer_passive_waiting()

import argparse
import dataclasses
from typing import Sequence

import numpy as np
import torch

from ltr.admin.cli_args import positive_int
from ltr.admin.paths import load_paths
from ltr.admin.threads import add_threads_argument, set_threads
from ltr.data.boxes import box_iou
from ltr.data.image_io import imread
from pytracking.evaluation.experiment import load_experiment
from pytracking.evaluation.runner import build_dataset
from pytracking.tracker.bit import BitTracker
from pytracking.tracker.bit.tracker import head_crop_box
from pytracking.tracker.bit.templates import FeatureDict


def predict(tracker: BitTracker, image: np.ndarray, box: np.ndarray, template: FeatureDict) -> tuple[np.ndarray, float]:
    """Box (frame ``x, y, w, h``) and sigmoid score for the search crop the tracker cuts around
    ``box``, with ``template`` in both template slots (as at the first frame)."""
    crop = tracker.crops(image, box, tracker.cfg.search_factor, tracker.search_size)
    out = tracker.search_outputs(crop.image, crop.mask, [template, template])
    frame_box = np.asarray(crop.transform.box_from_crop(head_crop_box(out, tracker.search_size)))
    return frame_box, float(torch.sigmoid(out["score_logits"][0, 0].float()))


@torch.inference_mode()
def measure(tracker: BitTracker, sequences: list, frames: Sequence[int], shift: int = 7) -> dict[str, float]:
    """The figures of the module docstring over ``sequences`` (another sequence: ``shift`` further on)."""
    firsts = [(imread(seq.frames[0], use_jpeg4py=False), seq.ground_truth[0]) for seq in sequences]
    truth, swapped, own_scores, other_scores = [], [], [], []
    for index, seq in enumerate(sequences):
        own = tracker.template_features(*firsts[index])
        other = tracker.template_features(*firsts[(index + shift) % len(sequences)])
        for frame in frames:
            if frame >= len(seq) or not np.isfinite(seq.ground_truth[frame]).all() or min(seq.ground_truth[frame, 2:]) <= 0:
                continue
            box = seq.ground_truth[frame]
            image = imread(seq.frames[frame], use_jpeg4py=False)
            own_box, own_score = predict(tracker, image, box, own)
            other_box, other_score = predict(tracker, image, box, other)
            truth.append(float(box_iou(own_box, box)))
            swapped.append(float(box_iou(other_box, own_box)))
            own_scores.append(own_score)
            other_scores.append(other_score)
    return {"crops": len(truth), "iou_own_vs_truth": float(np.mean(truth)),
            "iou_other_vs_own_mean": float(np.mean(swapped)), "iou_other_vs_own_median": float(np.median(swapped)),
            "score_own": float(np.mean(own_scores)), "score_other": float(np.mean(other_scores))}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="tiny", help="experiments/bit/<config>.yaml (default: tiny)")
    parser.add_argument("--checkpoint", default=None, help="a BIT checkpoint (default: the config's tracking.checkpoint)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set model.nheads=2 (repeatable)")
    parser.add_argument("--split", default="val", choices=("val", "test"), help="real-imagery benchmark split")
    parser.add_argument("--frames", type=positive_int, nargs="+", default=[5, 10, 20], help="frames whose search crops are used")
    parser.add_argument("--workspace", default=None, help="output root (default: paths file / $PYTRACKING_WORKSPACE)")
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    tracker = BitTracker(BitTracker.load_params("bit", args.config, args.overrides),
                         Path(args.checkpoint) if args.checkpoint else None)
    # the main job's real benchmark (experiments/real.yaml), at the chosen split
    entry = dataclasses.replace(load_experiment("real").dataset, split=args.split)
    dataset = build_dataset(entry, paths=load_paths(args.workspace))
    figures = measure(tracker, list(dataset), args.frames)
    print(f"bit/{args.config} on real {args.split}, {figures['crops']} search crops:")
    print(f"  IoU of the own-template box with the truth:          {figures['iou_own_vs_truth']:.3f}")
    print(f"  IoU of the other-template box with the own one:      mean {figures['iou_other_vs_own_mean']:.3f}, "
          f"median {figures['iou_other_vs_own_median']:.3f}  (1 = the template is ignored)")
    print(f"  score with the own template / another sequence's:    {figures['score_own']:.3f} / "
          f"{figures['score_other']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
