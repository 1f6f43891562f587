"""benchmarks/bit_template_use.py: the template-swap figures tell a template-blind net from one that matches."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from pytracking.evaluation.sequence import Sequence
from pytracking.tracker.bit import BitTracker

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("bit_template_use", ROOT / "benchmarks" / "bit_template_use.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sequences(folder: Path, count: int = 3, frames: int = 6) -> list[Sequence]:
    """``count`` sequences of noise frames with a box at a fixed place."""
    rng = np.random.default_rng(0)
    out = []
    for s in range(count):
        paths = []
        for i in range(frames):
            path = folder / f"s{s}_{i:02d}.png"
            cv2.imwrite(str(path), rng.integers(0, 256, (96, 128, 3), dtype=np.uint8))
            paths.append(str(path))
        out.append(Sequence(name=f"s{s}", dataset="real", frames=paths,
                            ground_truth=np.tile([40.0 + 5 * s, 30.0, 24.0, 20.0], (frames, 1))))
    return out


@pytest.fixture(scope="module")
def tracker() -> BitTracker:
    torch.manual_seed(0)
    return BitTracker(BitTracker.load_params("bit", "tiny", ["tracking.checkpoint=null"]))


def stub_head(tracker: BitTracker, monkeypatch, uses_template: bool) -> None:
    """A head whose box is fixed (template-blind) or placed by which template it is given (each
    distinct template seen gets its own box, further right)."""
    seen: dict[float, int] = {}

    def head(templates, search, run_box_head=True, run_score_head=True):
        index = seen.setdefault(round(float(templates[0]["feat"].float().sum()), 3), len(seen)) if uses_template else 0
        return {"pred_boxes": torch.tensor([[0.5 + 0.15 * index, 0.5, 0.2, 0.2]]),
                "score_logits": torch.tensor([[float(index)]])}
    monkeypatch.setattr(tracker.net, "forward_head", head)


def test_a_template_blind_head_gives_the_same_box_with_any_template(tracker, tmp_path, monkeypatch):
    script = load_script()
    stub_head(tracker, monkeypatch, uses_template=False)
    figures = script.measure(tracker, sequences(tmp_path), frames=[1, 3, 99], shift=1)
    assert figures["crops"] == 6  # frame 99 does not exist
    assert figures["iou_other_vs_own_mean"] == pytest.approx(1.0)
    # the blind head's box: a square 0.2 of the search crop, centred on the true 24x20 box
    side = 0.2 * tracker.cfg.search_factor * np.sqrt(24 * 20)
    assert side < 20  # inside the true box, so IoU = its area over the box's
    assert figures["iou_own_vs_truth"] == pytest.approx(side ** 2 / (24 * 20), abs=0.03)
    assert figures["score_own"] == pytest.approx(0.5) and figures["score_other"] == pytest.approx(0.5)


def test_a_template_matching_head_moves_its_box_with_another_template(tracker, tmp_path, monkeypatch):
    script = load_script()
    stub_head(tracker, monkeypatch, uses_template=True)
    figures = script.measure(tracker, sequences(tmp_path), frames=[1, 3], shift=1)
    assert figures["iou_other_vs_own_mean"] < 0.15  # boxes 0.15 of the crop apart or more: IoU <= 1/7
