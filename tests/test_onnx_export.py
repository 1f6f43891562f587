"""ONNX export (``ltr.export``) of JCAT and BIT, onnxruntime parity, and the onnxruntime-backed networks."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ltr.admin.checkpoint import build_network_from_checkpoint, save_checkpoint
from ltr.export.bit import BitBackbone, example_crop
from ltr.export.common import max_abs_difference
from ltr.export.jcat import JcatSegment, example_inputs
from ltr.export.onnx import export
from ltr.models.registry import NETWORKS
from pytracking.tracker.base import SequenceInfo
from pytracking.tracker.onnx import OnnxBitNet, OnnxJcatNet, is_onnx_export, load_onnx_network

REPO = Path(__file__).resolve().parents[1]
TOL = 1e-4
BIT_TINY = dict(backbone="resnet18", d_model=64, nheads=4, dim_feedforward=256, enc_layers=3, mdai_levels=(1, 2, 3),
                head_channels=64, template_size=64, search_size=128, template_correlation=True)  # as bit/tiny


@pytest.fixture(scope="module")
def jcat_net() -> torch.nn.Module:
    torch.manual_seed(0)
    return NETWORKS.build("jcat", backbone="resnet18").eval()


@pytest.fixture(scope="module")
def bit_net() -> torch.nn.Module:
    torch.manual_seed(0)
    return NETWORKS.build("bit", **BIT_TINY).eval()


@pytest.fixture(scope="module")
def jcat_export(jcat_net, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("jcat_onnx")
    path = save_checkpoint(out / "jcat.pth", jcat_net, "jcat", dict(backbone="resnet18"))
    manifest = export("jcat", out / "export", checkpoint=str(path), crop=96)
    assert set(manifest["graphs"]) == {"jcat_features", "jcat_segment"}
    return out / "export"


@pytest.fixture(scope="module")
def bit_export(bit_net, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bit_onnx")
    path = save_checkpoint(out / "bit.pth", bit_net, "bit", dict(BIT_TINY))
    manifest = export("bit", out / "export", checkpoint=str(path))
    assert set(manifest["graphs"]) == {"bit_backbone", "bit_head_t2"}
    return out / "export"


def test_export_manifest_records_parity_below_tolerance(jcat_export: Path, bit_export: Path) -> None:
    for folder in (jcat_export, bit_export):
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["opset"] >= 17
        for graph in manifest["graphs"].values():
            assert (folder / graph["file"]).is_file()
            assert max(graph["max_abs_diff"].values()) < TOL and graph["relative_error"] < TOL, graph


def test_export_manifest_records_the_weights_sha256(jcat_net, jcat_export: Path, bit_export: Path) -> None:
    import hashlib

    from ltr.export.onnx import state_dict_sha256

    for folder, name in ((jcat_export, "jcat.pth"), (bit_export, "bit.pth")):
        manifest = json.loads((folder / "manifest.json").read_text())
        checkpoint = folder.parent / name
        assert manifest["checkpoint_sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
        assert len(manifest["weights_sha256"]) == 64
        for graph in manifest["graphs"].values():
            assert graph["sha256"] == hashlib.sha256((folder / graph["file"]).read_bytes()).hexdigest()
    manifest = json.loads((jcat_export / "manifest.json").read_text())
    assert manifest["weights_sha256"] == state_dict_sha256(jcat_net)
    changed = copy.deepcopy(jcat_net)
    with torch.no_grad():
        next(changed.segm_predictor.parameters()).view(-1)[0] += 1e-3
    assert state_dict_sha256(changed) != manifest["weights_sha256"]


def test_jcat_segment_graph_matches_torch_for_any_memory_length_and_crop(jcat_net, jcat_export: Path) -> None:
    for crop, memory in ((96, 0), (128, 3)):
        _, inputs = example_inputs(jcat_net, crop, memory=memory, seed=crop)
        diff = max_abs_difference(jcat_export / "jcat_segment.onnx", JcatSegment(jcat_net), inputs, ["logits"])
        assert diff["logits"] < TOL


def test_jcat_segment_wrapper_equals_the_network_with_a_memory_bank(jcat_net) -> None:
    _, s = example_inputs(jcat_net, 96, memory=2)
    test = {k[5:]: s[k] for k in s if k.startswith("test_")}
    memory = [({"layer3": s["memory_layer3"][i:i + 1]}, s["memory_mask"][i:i + 1]) for i in range(2)]
    with torch.no_grad():
        ref = jcat_net.segment(test, {"layer3": s["train_layer3"]}, s["train_mask"], s["dist_map"], memory)
        ours = JcatSegment(jcat_net)(*s.values())
    assert (ref - ours).abs().max() < TOL  # float summation order only


def test_onnx_jcat_net_has_the_torch_tracking_api(jcat_net, jcat_export: Path) -> None:
    net = load_onnx_network(jcat_export / "manifest.json")
    assert isinstance(net, OnnxJcatNet) and net.to("cpu").eval() is net
    image = torch.randn(1, 3, 96, 96)
    ref = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        feats, ref_feats = jcat_net.extract_features(image), jcat_net.extract_features(ref)
        mask, dist = (torch.rand(1, 96, 96) > 0.5).float(), torch.rand(1, 96, 96)
        expected = jcat_net.segment(feats, ref_feats, mask, dist, [(ref_feats, mask)])
    ours = net.extract_features(image)
    assert all((ours[k] - feats[k]).abs().max() < TOL for k in feats)
    logits = net.segment(ours, net.extract_features(ref), mask, dist, [(ref_feats, mask)])
    assert logits.shape == expected.shape and (logits - expected).abs().max() < TOL
    assert (net.segment(ours, ref_feats, mask, dist) - jcat_net.segment(feats, ref_feats, mask, dist)).abs().max() < TOL


def test_onnx_bit_net_matches_forward_backbone_and_head(bit_net, bit_export: Path) -> None:
    net = load_onnx_network(bit_export)
    assert isinstance(net, OnnxBitNet) and net.cfg.search_size == 128
    gen = torch.Generator().manual_seed(5)
    crops = [example_crop(bit_net, 64, gen), example_crop(bit_net, 64, gen), example_crop(bit_net, 128, gen)]
    with torch.no_grad():
        torch_feats = [bit_net.forward_backbone(*c) for c in crops]
        expected = bit_net.forward_head(torch_feats[:2], torch_feats[2], run_score_head=True)
    feats = [net.forward_backbone(*c) for c in crops]
    for ours, ref in zip(feats, torch_feats):
        assert ours["mask"].dtype == torch.bool and torch.equal(ours["mask"], ref["mask"])
        assert all((ours[k].float() - ref[k].float()).abs().max() < TOL for k in ref)
    out = net.forward_head(feats[:2], feats[2], run_score_head=True)
    for key in ("pred_boxes", "pred_boxes_xyxy", "score_logits", "score_map_tl", "score_map_br"):
        assert (out[key] - expected[key]).abs().max() < TOL
    with pytest.raises(KeyError, match="bit_head_t3"):
        net.forward_head(feats[:2] + feats[:1], feats[2])


def test_bit_backbone_graph_accepts_the_search_size(bit_net, bit_export: Path) -> None:
    image, mask = example_crop(bit_net, 128, torch.Generator().manual_seed(1))
    diff = max_abs_difference(bit_export / "bit_backbone.onnx", BitBackbone(bit_net),
                              {"image": image, "image_mask": mask}, ["feat", "raw", "mask", "pos"])
    assert max(diff.values()) < TOL


def test_jcat_tracker_runs_on_the_onnx_network(jcat_export: Path, monkeypatch) -> None:
    """The JCAT tracker with its net swapped for the onnxruntime wrapper tracks like the torch net (what a
    ``load_network`` that returns ``load_onnx_network(path)`` for an export folder gives)."""
    from ltr.dataset.synthetic import SyntheticParams, SyntheticSequence
    from pytracking.tracker.jcat import tracker as jcat_tracker

    torch_net = build_network_from_checkpoint(jcat_export.parent / "jcat.pth")
    seq = SyntheticSequence(2, SyntheticParams(width=160, height=120, num_frames=4, clutter=2))
    params = jcat_tracker.JcatTracker.load_params("jcat", "tiny")
    boxes = {}
    for backend, net in (("torch", torch_net.eval()), ("onnx", load_onnx_network(jcat_export))):
        monkeypatch.setattr(jcat_tracker, "load_network", lambda *_: net)
        tracker = jcat_tracker.JcatTracker(params)
        rgb, _ = seq.render_frame(0)
        tracker.initialize(rgb, {"init_bbox": [float(v) for v in seq.geometry.boxes[0]], "seed": 0})
        boxes[backend] = [tracker.track(seq.render_frame(i)[0], {})["target_bbox"] for i in range(1, 4)]
    # the graphs match to ~1e-5, but the filter's iterative optimisation amplifies float-order noise
    # (the torch backend alone is deterministic): sub-pixel agreement is what can be asked
    np.testing.assert_allclose(boxes["onnx"], boxes["torch"], atol=1.5)


def test_bit_tracker_runs_on_the_onnx_network(bit_export: Path, monkeypatch) -> None:
    """The BIT tracker gives the same boxes with the onnxruntime wrapper as with the torch net."""
    from ltr.dataset.synthetic import SyntheticParams, SyntheticSequence
    from pytracking.tracker.bit import tracker as bit_tracker

    params = bit_tracker.BitTracker.load_params("bit", "tiny")  # its model section is BIT_TINY
    seq = SyntheticSequence(2, SyntheticParams(width=160, height=120, num_frames=5, clutter=2))
    boxes = {}
    for backend, net in (("torch", build_network_from_checkpoint(bit_export.parent / "bit.pth").eval()),
                         ("onnx", load_onnx_network(bit_export))):
        monkeypatch.setattr(bit_tracker, "load_network", lambda *_: net)
        tracker = bit_tracker.BitTracker(params)
        init = {"init_bbox": [float(v) for v in seq.geometry.boxes[0]], "seed": 0,
                "sequence": SequenceInfo(dataset="synthetic", name="s", num_frames=5)}
        tracker.initialize(seq.render_frame(0)[0], init)
        boxes[backend] = [tracker.track(seq.render_frame(i)[0], {})["target_bbox"] for i in range(1, 5)]
    np.testing.assert_allclose(boxes["onnx"], boxes["torch"], atol=1e-2)


def test_export_cli_runs_as_a_module(jcat_export: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ltr.export.onnx", "jcat", "--checkpoint",
                           str(jcat_export.parent / "jcat.pth"), "--out", str(tmp_path), "--crop", "64"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "jcat_segment" in proc.stdout and is_onnx_export(tmp_path)


def test_export_needs_a_network_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--checkpoint or --config"):
        export("jcat", tmp_path)
    assert not is_onnx_export(tmp_path)


def test_shipped_tiny_networks_export_with_their_efficientnet(tmp_path: Path) -> None:
    """The shipped tiny checkpoints (EfficientNet-Lite0, whose 'same' padding depends on the input
    size) export within tolerance, and the JCAT feature graph matches torch at other crop sizes,
    odd ones included."""
    import onnxruntime

    for name, crop in (("jcat", 128), ("bit", None)):
        checkpoint = REPO / "pytracking" / "networks" / f"{name}_tiny.pth"
        manifest = export(name, tmp_path / name, checkpoint=str(checkpoint), crop=crop)
        for graph in manifest["graphs"].values():
            assert max(graph["max_abs_diff"].values()) < TOL and graph["relative_error"] < TOL, graph
    net = build_network_from_checkpoint(REPO / "pytracking" / "networks" / "jcat_tiny.pth").float().eval()
    session = onnxruntime.InferenceSession(str(tmp_path / "jcat" / "jcat_features.onnx"),
                                           providers=["CPUExecutionProvider"])
    for size in (96, 97):
        x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(size))
        outputs = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        with torch.no_grad():
            expected = net.extract_features(x)
        for got, want in zip(outputs, expected.values()):
            assert got.shape == tuple(want.shape) and np.abs(got - want.numpy()).max() < TOL
