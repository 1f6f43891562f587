"""CapturedCall (pytracking/tracker/base/cuda_graph.py) and BIT's ``tracking.cuda_graph``.

The argument plumbing (static copies, mismatch detection) is checked on any machine with the
graph replaced by an eager call; capture and replay themselves need a GPU and are checked there
against the op-by-op path (run on an H200; skipped without CUDA).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pytracking.tracker.base import SequenceInfo
from pytracking.tracker.base.cuda_graph import CapturedCall, GraphMismatch
from pytracking.tracker.bit import BitTracker

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")


class EagerCall(CapturedCall):
    """CapturedCall with the graph replaced by calling ``fn`` on the static arguments."""

    def _capture(self, warmup: int):
        return self.fn(*self.static_args)

    def _replay(self) -> None:
        self.outputs = self.fn(*self.static_args)


def combine(x: torch.Tensor, parts: dict[str, torch.Tensor], scale: float) -> torch.Tensor:
    return x * scale + parts["b"]


def test_calls_see_the_new_arguments_through_the_static_copies():
    x, parts = torch.ones(2, 3), {"b": torch.zeros(2, 3)}
    call = EagerCall(combine, x, parts, 2.0)
    assert call.static_args[0] is not x  # copies, so the caller may reuse its buffers
    out = call(torch.full((2, 3), 3.0), {"b": torch.full((2, 3), 0.5)}, 2.0)
    assert torch.equal(out, torch.full((2, 3), 6.5))
    assert torch.equal(call.static_args[0], torch.full((2, 3), 3.0))


@pytest.mark.parametrize("args", [
    (torch.ones(2, 4), {"b": torch.zeros(2, 3)}, 2.0),  # other shape
    (torch.ones(2, 3, dtype=torch.float64), {"b": torch.zeros(2, 3)}, 2.0),  # other dtype
    (torch.ones(2, 3), {"b": torch.zeros(2, 3), "c": torch.zeros(1)}, 2.0),  # other structure
    (torch.ones(2, 3), {"b": torch.zeros(2, 3)}, 3.0),  # other constant: baked into the graph
])
def test_arguments_the_graph_cannot_take_are_refused(args):
    call = EagerCall(combine, torch.ones(2, 3), {"b": torch.zeros(2, 3)}, 2.0)
    assert not call.accepts(*args)
    with pytest.raises(GraphMismatch, match="capture again"):
        call(*args)


def frames(count: int, width: int = 160, height: int = 120) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def track_boxes(tracker: BitTracker, video: list[np.ndarray]) -> np.ndarray:
    tracker.initialize(video[0], {"init_bbox": [60.0, 40.0, 24.0, 20.0],
                                  "sequence": SequenceInfo(dataset="vot2020", name="s", num_frames=len(video))})
    return np.array([tracker.track(image, {})["target_bbox"] for image in video[1:]])


def test_bit_on_a_cpu_runs_op_by_op():
    assert BitTracker.load_params("bit", "default").tracking.cuda_graph  # on by default: it applies on CUDA only
    tracker = BitTracker(BitTracker.load_params("bit", "tiny", ["tracking.device=cpu"]))
    plain = BitTracker(BitTracker.load_params("bit", "tiny", ["tracking.device=cpu", "tracking.cuda_graph=false"]))
    assert not tracker.use_cuda_graph
    video = frames(6)
    assert np.array_equal(track_boxes(tracker, video), track_boxes(plain, video))


def test_bit_graph_path_captures_once_and_again_only_when_the_arguments_change(monkeypatch):
    """The tracker's graph plumbing on a CPU, the graph replaced by eager calls: the same boxes as
    op by op while the dynamic template is replaced (through the static copies), and a capture
    only for arguments of a new structure, never again for one already captured."""
    import pytracking.tracker.bit.tracker as bit_module

    captures = []

    class CountingEagerCall(EagerCall):
        def _capture(self, warmup: int):
            captures.append(len(self.static_args[2]))
            return super()._capture(warmup)

    monkeypatch.setattr(bit_module, "CapturedCall", CountingEagerCall)
    overrides = ["tracking.device=cpu", "tracking.update_threshold=0.0"]
    graphed = BitTracker(BitTracker.load_params("bit", "tiny", overrides))
    plain = BitTracker(BitTracker.load_params("bit", "tiny", overrides + ["tracking.cuda_graph=false"]))
    graphed.use_cuda_graph = True
    video = frames(31)
    np.testing.assert_array_equal(track_boxes(graphed, video), track_boxes(plain, video))
    assert graphed.templates.updates > 0
    assert 1 <= len(captures) == len(set(captures)), captures


@CUDA
def test_captured_call_replays_like_the_eager_call():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 4, 3)).cuda().eval()
    with torch.inference_mode():
        call = CapturedCall(net, torch.randn(1, 3, 32, 32, device="cuda"))
        for seed in range(3):
            image = torch.randn(1, 3, 32, 32, device="cuda", generator=torch.Generator("cuda").manual_seed(seed))
            torch.testing.assert_close(call(image), net(image), rtol=1e-5, atol=1e-5)


@CUDA
@pytest.mark.parametrize("amp", [False, True])
def test_bit_tracker_boxes_with_and_without_the_graph(amp):
    # vot2020's template interval 10: 30 frames replace the dynamic template, so the graph's
    # static template copies must follow the slots
    video = frames(31)
    overrides = ["tracking.device=cuda", f"tracking.amp={amp}", "tracking.update_threshold=0.0"]
    graphed = BitTracker(BitTracker.load_params("bit", "tiny", overrides))
    plain = BitTracker(BitTracker.load_params("bit", "tiny", overrides + ["tracking.cuda_graph=false"]))
    assert graphed.use_cuda_graph
    boxes, expected = track_boxes(graphed, video), track_boxes(plain, video)
    assert graphed.templates.updates > 0
    np.testing.assert_allclose(boxes, expected, atol=1e-3 if amp else 1e-4)
