"""Inference fast paths (``ltr.models.inference``): each one gives the plain path's outputs.

Networks get random BatchNorm statistics and affine parameters first (a fresh BatchNorm is the
identity, so folding it would prove nothing); the trackers run the shipped tiny weights.
Tolerance: boxes, masks and scores within 1e-5 (relative for large logits).
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.ops.misc import FrozenBatchNorm2d

from ltr.config.experiment import load_experiment
from ltr.models.backbone.efficientnet import EfficientNetLiteBackbone
from ltr.models.backbone.resnet import ResNetBackbone
from ltr.models.bit.network import bit_kwargs
from ltr.models.inference import (
    PLAIN,
    InferencePaths,
    default_paths,
    describe,
    fold_batchnorm,
    input_memory_format,
    network_paths,
    optimize_for_inference,
)
from ltr.models.jcat.network import jcat_kwargs
from ltr.models.registry import NETWORKS
from pytracking.tracker.bit import BitTracker
from pytracking.tracker.bit.preprocess import IMAGENET_MEAN, IMAGENET_STD, CropMaker
from pytracking.tracker.jcat.tracker import JcatTracker

FAST_PATHS = [InferencePaths(fold_bn=True, channels_last=False), InferencePaths(fold_bn=False, channels_last=True),
              InferencePaths(fold_bn=True, channels_last=True)]


def randomise_batchnorm(net: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial running statistics and affine parameters in every BatchNorm of ``net``."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm2d, FrozenBatchNorm2d)):
                n = m.running_mean.numel()
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.5)
                m.running_var.copy_(torch.rand(n, generator=gen) * 2 + 0.2)
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.3)
    return net


def batchnorms(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, (nn.BatchNorm2d, FrozenBatchNorm2d))]


def assert_close(fast: torch.Tensor, plain: torch.Tensor, tol: float = 1e-5) -> None:
    scale = max(1.0, float(plain.abs().max()))
    diff = float((fast.float() - plain.float()).abs().max())
    assert diff <= tol * scale, f"max |fast - plain| = {diff:.3g} (scale {scale:.3g})"


# ---------------------------------------------------------------------------- BatchNorm folding


def test_fold_matches_an_independent_conv_then_batchnorm():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(3, 5, 3, padding=1, bias=False), nn.BatchNorm2d(5)
    seq = randomise_batchnorm(nn.Sequential(conv, bn)).eval()
    x = torch.randn(2, 3, 9, 9)
    with torch.no_grad():  # independent: BN formula applied by hand to the conv output
        y = torch.nn.functional.conv2d(x, conv.weight, padding=1)
        expected = (y - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
        expected = expected * bn.weight[:, None, None] + bn.bias[:, None, None]
    assert fold_batchnorm(seq) == 1
    assert isinstance(seq[1], nn.Identity) and conv.bias is not None
    with torch.no_grad():
        assert_close(seq(x), expected)


def test_fold_removes_every_batchnorm_of_a_resnet_and_keeps_its_features():
    torch.manual_seed(0)
    plain = randomise_batchnorm(ResNetBackbone("resnet18", output_layers=("conv1", "layer2", "layer3"))).eval()
    folded = copy.deepcopy(plain)
    count = len(batchnorms(plain))
    assert fold_batchnorm(folded) == count and not batchnorms(folded)
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        a, b = plain(x), folded(x)
    for key in a:
        assert_close(b[key], a[key])


def test_fold_removes_every_batchnorm_of_an_efficientnet_and_keeps_its_activations():
    """timm's BatchNormAct2d folds into its conv and leaves its ReLU6 behind: same taps."""
    torch.manual_seed(0)
    plain = EfficientNetLiteBackbone(output_layers=("conv1", "layer2", "layer3"), weights="none")
    plain = randomise_batchnorm(plain).eval()
    folded = copy.deepcopy(plain)
    count = len(batchnorms(plain))
    assert count == 33 and fold_batchnorm(folded) == count and not batchnorms(folded)
    assert isinstance(folded.bn1, nn.ReLU6) and isinstance(folded.blocks[2][0].bn3, nn.Identity)
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        a, b = plain(x), folded(x)
    for key in a:
        assert_close(b[key], a[key])


def test_batchnorm_in_training_mode_is_not_folded():
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).train()
    assert fold_batchnorm(seq) == 0 and isinstance(seq[1], nn.BatchNorm2d)


def test_optimised_network_refuses_to_save_its_folded_weights():
    net = optimize_for_inference(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)), InferencePaths())
    with pytest.raises(RuntimeError, match="optimised for inference"):
        net.state_dict()
    with pytest.raises(RuntimeError, match="already optimised"):
        optimize_for_inference(net, InferencePaths())


def test_default_paths(monkeypatch):
    monkeypatch.delenv("PYTRACKING_INFERENCE", raising=False)
    assert default_paths() == InferencePaths(fold_bn=True, channels_last=True)
    monkeypatch.setenv("PYTRACKING_INFERENCE", "plain")
    assert default_paths() == PLAIN


# ---------------------------------------------------------------------------- networks


@pytest.mark.parametrize("paths", FAST_PATHS, ids=str)
def test_bit_network_fast_paths_give_the_plain_outputs(paths):
    torch.manual_seed(0)
    cfg = load_experiment("bit", "tiny").model
    plain = randomise_batchnorm(NETWORKS.build("bit", **bit_kwargs(cfg))).eval()
    fast = optimize_for_inference(copy.deepcopy(plain), paths)
    z, x = torch.randn(1, 3, cfg.template_size, cfg.template_size), torch.randn(1, 3, cfg.search_size, cfg.search_size)
    zm = torch.zeros(1, cfg.template_size, cfg.template_size, dtype=torch.bool)
    xm = torch.zeros(1, cfg.search_size, cfg.search_size, dtype=torch.bool)
    xm[:, :, :20] = True  # a padded border, so the masks matter
    fmt = input_memory_format(fast)
    with torch.inference_mode():
        outs = []
        for net, convert in ((plain, lambda t: t), (fast, lambda t: t.contiguous(memory_format=fmt))):
            template = net.forward_backbone(convert(z), zm)
            outs.append(net.forward_head([template, template], net.forward_backbone(convert(x), xm), True, True))
    for key in ("pred_boxes", "score_logits", "score_map_tl", "score_map_br"):
        assert_close(outs[1][key], outs[0][key])


@pytest.mark.parametrize("paths", FAST_PATHS, ids=str)
def test_jcat_network_fast_paths_give_the_plain_outputs(paths):
    torch.manual_seed(0)
    cfg = load_experiment("jcat", "tiny").model
    plain = randomise_batchnorm(NETWORKS.build("jcat", **jcat_kwargs(cfg))).eval()
    fast = optimize_for_inference(copy.deepcopy(plain), paths)
    assert not batchnorms(fast) or not paths.fold_bn
    ref, test = torch.randn(1, 3, 128, 128), torch.randn(1, 3, 128, 128)
    mask = torch.zeros(1, 1, 128, 128)
    mask[..., 40:90, 30:100] = 1
    dist = torch.rand(1, 1, 128, 128)
    with torch.inference_mode():
        logits = []
        for net in (plain, fast):
            train = net.extract_features(ref.contiguous(memory_format=input_memory_format(net)))
            feats = net.extract_features(test.contiguous(memory_format=input_memory_format(net)))
            logits.append(net.segment(feats, train, mask, dist, [(train, mask)]))
    assert_close(logits[1], logits[0])
    assert torch.equal(logits[1].argmax(1), logits[0].argmax(1))


# ---------------------------------------------------------------------------- preprocessing


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last], ids=str)
def test_fused_normalisation_matches_the_formula_and_reuses_its_buffer(memory_format):
    crop = np.random.default_rng(0).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    maker = CropMaker(torch.device("cpu"), memory_format)
    out = maker.normalise(crop)
    mean, std = np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)
    expected = ((crop / 255.0 - mean) / std).transpose(2, 0, 1)[None]
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)
    assert out.is_contiguous(memory_format=memory_format)
    again = maker.normalise(crop[::-1].copy())
    assert again.data_ptr() == out.data_ptr()  # preallocated per size
    np.testing.assert_allclose(again.numpy(), expected[:, :, ::-1], atol=1e-6)


# ---------------------------------------------------------------------------- trackers


def moving_target(count: int, size=(120, 160)) -> list[tuple[np.ndarray, list[float]]]:
    rng = np.random.default_rng(3)
    height, width = size
    background = rng.integers(0, 120, (height, width, 3), dtype=np.uint8)
    texture = rng.integers(130, 255, (22, 26, 3), dtype=np.uint8)
    out = []
    for i in range(count):
        frame = background.copy()
        x, y = 40 + 4 * i, 40 + 2 * i
        frame[y:y + 22, x:x + 26] = texture
        out.append((frame, [float(x), float(y), 26.0, 22.0]))
    return out


def one_step(tracker, frames) -> list[dict]:
    """``initialize`` on each frame's ground truth, then ``track`` the next frame: open loop, since
    in a closed loop a 1e-6 change of one box moves the next crop and grows (a chaotic map)."""
    out = []
    for (image, box), (following, _) in zip(frames[:-1], frames[1:]):
        tracker.initialize(image, {"init_bbox": box, "seed": 0})
        out.append(tracker.track(following, {}))
    return out


def plain_and_fast(tracker_cls, name: str, monkeypatch) -> tuple:
    params = tracker_cls.load_params(name, "tiny", ["tracking.device=cpu"])
    monkeypatch.setenv("PYTRACKING_INFERENCE", "plain")
    plain = tracker_cls(params)
    monkeypatch.delenv("PYTRACKING_INFERENCE")
    fast = tracker_cls(params)
    assert fast.net.inference_paths == InferencePaths(fold_bn=True, channels_last=True)
    assert not batchnorms(fast.net) and batchnorms(plain.net)
    return plain, fast


def test_bit_tracker_fast_paths_give_the_plain_boxes_and_scores(monkeypatch):
    plain, fast = plain_and_fast(BitTracker, "bit", monkeypatch)
    assert fast.crops.memory_format == torch.channels_last
    frames = moving_target(5)
    for a, b in zip(one_step(plain, frames), one_step(fast, frames)):
        np.testing.assert_allclose(b["target_bbox"], a["target_bbox"], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(b["score"], a["score"], rtol=1e-5, atol=1e-5)


def with_network(tracker: JcatTracker, net: torch.nn.Module) -> JcatTracker:
    """A copy of ``tracker``'s whole state (filter, sample memory, segmentation memory, reference)
    that runs ``net`` (and so its input layout) instead of the tracker's own network."""
    own = tracker.net
    tracker.net = tracker.segmenter.net = None
    try:
        clone = copy.deepcopy(tracker)
    finally:
        tracker.net = tracker.segmenter.net = own
    clone.net = clone.segmenter.net = net
    return clone


def test_jcat_tracker_fast_paths_give_the_plain_boxes_and_masks(monkeypatch):
    """Every frame of a 16-frame run (filter updates, segmentation, memory bank, mask-to-box), the
    fast network gives the plain one's box within 1e-5 and the same mask from the same tracker state.

    The state is synchronised each frame because the tracker's decisions are thresholds (argmax on
    an upsampled grid, mask > threshold): in a free run the float-order noise accumulated in the
    filter flips a tie after about 13 frames, as any change of summation order would."""
    plain, fast = plain_and_fast(JcatTracker, "jcat", monkeypatch)
    assert fast.memory_format == torch.channels_last
    frames = moving_target(17, size=(240, 320))
    plain.initialize(frames[0][0], {"init_bbox": frames[0][1], "seed": 0})
    assert plain.segmenter.memory_format == torch.contiguous_format
    for image, _ in frames[1:]:
        twin = with_network(plain, fast.net)
        a, b = plain.track(image, {}), twin.track(image, {})
        np.testing.assert_allclose(b["target_bbox"], a["target_bbox"], rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(b["segmentation"], a["segmentation"])
    assert len(plain.memory.samples()) > 1  # the memory bank took part


def test_jcat_separate_filter_backbone_runs_with_the_networks_paths():
    tracker = JcatTracker(JcatTracker.load_params("jcat", "tiny", ["tracking.device=cpu", "tracking.dcf.backbone=separate"]))
    assert network_paths(tracker.filter_backbone) == network_paths(tracker.net) != PLAIN
    assert not batchnorms(tracker.filter_backbone)

# ---------------------------------------------------------------------------- weights in the autocast dtype


def test_weights_stored_in_the_autocast_dtype_give_autocasts_outputs_exactly():
    """Autocast rounds each fp32 weight to bf16 on every call; storing the rounded weights once
    must give the same outputs bit for bit, and only conv and linear layers change dtype."""
    torch.manual_seed(0)
    cfg = load_experiment("jcat", "tiny").model
    plain = randomise_batchnorm(NETWORKS.build("jcat", **jcat_kwargs(cfg))).eval()
    folded = optimize_for_inference(copy.deepcopy(plain), InferencePaths(fold_bn=True, channels_last=True))
    stored = optimize_for_inference(copy.deepcopy(plain), default_paths(torch.bfloat16))
    assert stored.inference_paths.weight_dtype == torch.bfloat16
    assert {p.dtype for m in stored.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for p in m.parameters()} \
        == {torch.bfloat16}
    assert {p.dtype for m in stored.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()} == {torch.float32}
    assert describe(stored.inference_paths) == "fold_bn+channels_last+bfloat16_weights"
    ref, test = torch.randn(1, 3, 128, 128), torch.randn(1, 3, 128, 128)
    mask = torch.zeros(1, 1, 128, 128)
    mask[..., 40:90, 30:100] = 1
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        logits = []
        for net in (folded, stored):
            train = net.extract_features(ref.contiguous(memory_format=torch.channels_last))
            feats = net.extract_features(test.contiguous(memory_format=torch.channels_last))
            logits.append(net.segment(feats, train, mask, torch.rand(1, 1, 128, 128, generator=torch.Generator().manual_seed(1)),
                                      [(train, mask)]))
    assert torch.equal(logits[0], logits[1])


def amp_trackers(tracker_cls, name: str, monkeypatch) -> tuple:
    """(fp32 weights under autocast, weights stored in bf16) trackers of ``name``'s tiny config with tracking.amp."""
    from ltr.models import precision
    from pytracking.tracker.base import network

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda flags=None: True)
    params = tracker_cls.load_params(name, "tiny", ["tracking.device=cpu", "tracking.amp=true"])
    stored = tracker_cls(params)
    monkeypatch.setattr(network, "default_paths", lambda dtype=None: InferencePaths(fold_bn=True, channels_last=True))
    cast_per_call = tracker_cls(params)
    assert stored.net.inference_paths.weight_dtype == torch.bfloat16
    assert cast_per_call.net.inference_paths.weight_dtype is None
    return cast_per_call, stored


def test_bit_tracker_with_amp_stores_bf16_weights_and_gives_the_same_boxes(monkeypatch):
    a_tracker, b_tracker = amp_trackers(BitTracker, "bit", monkeypatch)
    frames = moving_target(6)
    for a, b in zip(one_step(a_tracker, frames), one_step(b_tracker, frames)):
        assert a["target_bbox"] == b["target_bbox"] and a["score"] == b["score"]


def test_jcat_tracker_with_amp_stores_bf16_weights_and_gives_the_same_boxes_and_masks(monkeypatch):
    a_tracker, b_tracker = amp_trackers(JcatTracker, "jcat", monkeypatch)
    frames = moving_target(12, size=(240, 320))
    for tracker in (a_tracker, b_tracker):
        tracker.initialize(frames[0][0], {"init_bbox": frames[0][1], "seed": 0})
    for image, _ in frames[1:]:
        a, b = a_tracker.track(image, {}), b_tracker.track(image, {})
        assert a["target_bbox"] == b["target_bbox"]
        np.testing.assert_array_equal(a["segmentation"], b["segmentation"])
    assert len(b_tracker.memory.samples()) > 1
