"""Load the official JCAT tracker (github.com/Yang428/JCAT) from a local checkout, on the CPU, for speed comparisons.

Nothing of JCAT is vendored: ``root`` is a checkout the user fetched, imported as it is, and its
tracker runs with its default parameters (``pytracking/parameter/Jcat/Jcat.py``). This module
only shims what the checkout needs and a CPU-only, offline process with torch 2 lacks:

* **package names**: the checkout's top-level packages are ``ltr`` and ``pytracking``, the
  project's own names. They are imported with the project's modules set aside in
  ``sys.modules`` and the checkout first on ``sys.path``; then the checkout's modules leave
  ``sys.modules`` again (the tracker keeps them alive; ``tracker.checkout_modules`` names them)
  and the project's come back. The official tracking path imports nothing lazily, so it never
  meets the project's modules;
* **gone from torch / torchvision**: ``torch._six`` (the checkout's data loader imports it) gets
  its two names; ``torchvision.models.resnet.model_urls`` exists while the checkout is imported;
  ``torch.rfft`` / ``torch.irfft`` (the filter's Fourier-domain localisation) exist while the
  tracker runs, as the same transforms of ``torch.fft`` in the old layout (real and imaginary
  parts in a last dimension of 2);
* **torch 2's protocol probes**: the checkout's ``TensorList`` (a list) answers every attribute
  that ``torch.Tensor`` has with a per-element call, so it claims ``__torch_function__`` and
  ``__dlpack__``, which torch 2 probes on arguments (``torch.Tensor(TensorList(...))`` in the
  feature extractor then fails); its ``__getattr__`` refuses dunder names (none is its API);
* **torch < 1.5 semantics**: while the tracker runs, ``a / b`` of an integer tensor by an integer
  truncates as it did then (the filter's crop, ``features/preprocessing.sample_patch``, computes
  its padding as ``posl - (szl - 1)/2`` of long tensors and passes it to ``F.pad``);
* **autograd**: the filter's Gauss-Newton and conjugate-gradient steps differentiate with
  ``torch.autograd``, so the tracker runs with grad mode on, also inside an inference-mode caller;
* **CUDA**: ``.cuda()`` of tensors and modules is the identity while the tracker is built and
  runs (:func:`benchmarks.stark_peer.cpu_only`), and ``params.device = 'cpu'`` (the tracker keeps
  a preset device; ``use_gpu`` stays True, since the segmentation crops are put in NCHW layout only
  inside ``if use_gpu`` branches). No compiled CUDA op is on the tracking path;
* **no download, one set of weights**: the official ``load_network`` unpickles a checkpoint with
  a constructor object (torch 2's safe ``torch.load`` refuses that); the tracker module's
  ``load_network`` instead builds the net with the checkout's own constructor
  (``ltr.models.Jcat.Jcat.Jcat_resnet50(backbone_pretrained=False)``) and loads the given
  release-layout state_dict strictly. The filter's ResNet-50 (``ATOMResNet50`` builds
  ``resnet50(pretrained=True)``, an ImageNet download) gets the given torchvision state_dict from
  the official ResNet module's ``model_zoo.load_url``;
* **OpenCV 5**: the official ``cv2.__version__[-5] == '4'`` test picks OpenCV 3's three-value
  ``findContours`` for any other version; OpenCV 5 returns two values as 4 does, so the tracker
  and ``bbox_fit`` modules see the real ``cv2`` with ``__version__`` '4.0.0';
* **matplotlib**: the official base tracker switches the process to the TkAgg GUI backend when it
  is imported; ``matplotlib.use`` does nothing during that import.

The official tracker takes 1-based boxes (it subtracts 1); :func:`initialize_official` converts
the project's 0-based ``x, y, w, h``.
"""
from __future__ import annotations

import contextlib
import sys
import types
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import cv2
import numpy as np
import torch

from stark_peer import cpu_only

PACKAGES = ("ltr", "pytracking")
TRACKER_MODULE = "pytracking.tracker.Jcat.Jcat"
PARAMETER_MODULE = "pytracking.parameter.Jcat.Jcat"
NETWORK_MODULE = "ltr.models.Jcat.Jcat"  # the constructor module the tracker names for its net
# the constructor kwargs a released checkpoint carries (ltr/train_settings/Jcat/Jcat_default.py)
RELEASE_KWARGS = {"topk_pos": 3, "topk_neg": 3, "mixer_channels": 3}
RESNET_MODULE = "ltr.models.backbone.resnet"
BBOX_FIT_MODULE = "pytracking.bbox_fit"
TENSORLIST_MODULE = "pytracking.libs.tensorlist"
BACKBONE_PREFIX = "feature_extractor."
OPENCV4_VERSION = "4.0.0"

StateDict = Mapping[str, torch.Tensor]


def _ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


@contextlib.contextmanager
def _checkout_packages(root: Path) -> Iterator[dict[str, types.ModuleType]]:
    """Inside: ``ltr`` / ``pytracking`` import from ``root``. After: the project's modules are back
    and the yielded dict holds the checkout's, by name."""
    project = {name: module for name, module in sys.modules.items() if _ours(name)}
    for name in project:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    checkout: dict[str, types.ModuleType] = {}
    try:
        yield checkout
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if _ours(name)]:
            checkout[name] = sys.modules.pop(name)
        sys.modules.update(project)


@contextlib.contextmanager
def _import_shims() -> Iterator[None]:
    """``torch._six``, ``torchvision.models.resnet.model_urls`` and a no-op ``matplotlib.use``."""
    import matplotlib
    import torchvision.models.resnet as tv_resnet

    if "torch._six" not in sys.modules:
        six = types.ModuleType("torch._six")
        six.string_classes, six.int_classes = (str, bytes), int
        sys.modules["torch._six"] = six
    had_urls, use = hasattr(tv_resnet, "model_urls"), matplotlib.use
    if not had_urls:
        tv_resnet.model_urls = {"resnet18": "resnet18", "resnet50": "resnet50"}
    matplotlib.use = lambda *args, **kwargs: None
    try:
        yield
    finally:
        matplotlib.use = use
        if not had_urls:
            del tv_resnet.model_urls


def _legacy_rfft(x: torch.Tensor, signal_ndim: int) -> torch.Tensor:
    """torch < 1.8 ``torch.rfft(x, signal_ndim)`` (as the checkout calls it): one-sided, unnormalised
    FFT of the last ``signal_ndim`` dims, real and imaginary parts in a last dim of 2."""
    return torch.view_as_real(torch.fft.rfftn(x, dim=tuple(range(-signal_ndim, 0))))


def _legacy_irfft(x: torch.Tensor, signal_ndim: int, signal_sizes: Sequence[int] | None = None) -> torch.Tensor:
    """torch < 1.8 ``torch.irfft(x, signal_ndim, signal_sizes=...)``: the inverse of :func:`_legacy_rfft`."""
    return torch.fft.irfftn(torch.view_as_complex(x.contiguous()), s=signal_sizes, dim=tuple(range(-signal_ndim, 0)))


def _integral(x: Any) -> bool:
    if isinstance(x, torch.Tensor):
        return not (x.is_floating_point() or x.is_complex())
    return isinstance(x, int)


@contextlib.contextmanager
def _legacy_torch() -> Iterator[None]:
    """``torch.rfft`` / ``torch.irfft`` and truncating integer ``/`` (torch < 1.5) inside the block."""
    true_divide = torch.Tensor.__truediv__

    def divide(self: torch.Tensor, other: Any) -> torch.Tensor:
        if _integral(self) and _integral(other):
            return torch.div(self, other, rounding_mode="trunc")
        return true_divide(self, other)

    torch.rfft, torch.irfft = _legacy_rfft, _legacy_irfft  # type: ignore[attr-defined]
    torch.Tensor.__truediv__ = divide  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.Tensor.__truediv__ = true_divide  # type: ignore[method-assign]
        del torch.rfft, torch.irfft  # type: ignore[attr-defined]


@contextlib.contextmanager
def official_runtime() -> Iterator[None]:
    """Where the official tracker is built and runs: CPU, torch 1.x APIs and semantics, grad mode on."""
    with cpu_only(), _legacy_torch(), torch.inference_mode(False), torch.enable_grad():
        yield


class OpenCV4(types.ModuleType):
    """The real ``cv2`` reporting version 4 (see the module docstring); attributes are looked up once."""

    def __init__(self) -> None:
        super().__init__("cv2")
        self.__version__ = OPENCV4_VERSION

    def __getattr__(self, name: str) -> Any:
        value = getattr(cv2, name)
        setattr(self, name, value)
        return value


def _refuse_dunders(cls: type) -> None:
    """Make ``cls.__getattr__`` raise AttributeError for ``__names__`` (protocol probes)."""
    forward = cls.__getattr__

    def __getattr__(self: Any, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return forward(self, name)
    cls.__getattr__ = __getattr__


def _network_loader(checkout: dict[str, types.ModuleType], weights: StateDict) -> Callable[..., tuple[Any, dict]]:
    """Stand-in for the tracker module's ``load_network``: the checkout's constructor with the
    release's kwargs (the call's override them, as officially), ``weights`` loaded strictly."""
    def load_network(path: Any, constructor_module: str, constructor_fun_name: str, **kwargs: Any) -> tuple[Any, dict]:
        net = getattr(checkout[constructor_module], constructor_fun_name)(**{**RELEASE_KWARGS, **kwargs})
        net.load_state_dict(dict(weights))
        return net, {}
    return load_network


def _imagenet_stand_in(filter_backbone: StateDict) -> types.SimpleNamespace:
    """Stand-in for the official ResNet module's ``model_zoo``: ResNet-50's 'download' is ``filter_backbone``."""
    def load_url(url: str) -> dict[str, torch.Tensor]:
        if url != "resnet50":
            raise RuntimeError(f"jcat_peer: no weights for {url!r} (only the filter's ResNet-50 is provided)")
        return dict(filter_backbone)
    return types.SimpleNamespace(load_url=load_url)


def backbone_state(weights: StateDict) -> dict[str, torch.Tensor]:
    """The torchvision ResNet state_dict inside a release-layout JCAT state_dict (``feature_extractor.*``)."""
    return {k[len(BACKBONE_PREFIX):]: v for k, v in weights.items() if k.startswith(BACKBONE_PREFIX)}


def require_checkout(root: str | Path) -> Path:
    """``root`` resolved; FileNotFoundError unless it holds the official tracker and its parameters."""
    root = Path(root).resolve()
    for module in (TRACKER_MODULE, PARAMETER_MODULE, NETWORK_MODULE):
        path = module.replace(".", "/") + ".py"
        if not (root / path).is_file():
            raise FileNotFoundError(f"{root}: not a JCAT checkout (needs {path})")
    return root


def load_official_jcat(root: str | Path, weights: StateDict, filter_backbone: StateDict | None = None) -> Any:
    """The official ``Jcat`` tracker from the checkout at ``root``, default parameters, on the CPU.

    ``weights``: a JCAT state_dict in the release layout (``JcatNet.pth.tar``'s ``net``), loaded
    into the segmentation net at :func:`initialize_official`; ``filter_backbone``: the filter's
    torchvision ResNet-50 state_dict (default: the release's ``feature_extractor``, i.e. the
    project's ``dcf.backbone: shared``). Call the tracker only through :func:`initialize_official`
    and :func:`track_official` (or inside :func:`official_runtime`).
    """
    root = require_checkout(root)
    with _import_shims(), _checkout_packages(root) as checkout:
        for name in (TRACKER_MODULE, PARAMETER_MODULE, NETWORK_MODULE):
            __import__(name)
    _refuse_dunders(checkout[TENSORLIST_MODULE].TensorList)
    tracker_module = checkout[TRACKER_MODULE]
    tracker_module.load_network = _network_loader(checkout, weights)
    tracker_module.cv2 = OpenCV4()
    checkout[BBOX_FIT_MODULE].cv2 = OpenCV4()
    checkout[RESNET_MODULE].model_zoo = _imagenet_stand_in(
        backbone_state(weights) if filter_backbone is None else filter_backbone)
    params = checkout[PARAMETER_MODULE].parameters()
    params.device = "cpu"
    tracker = tracker_module.Jcat(params)
    tracker.checkout_modules = checkout
    with official_runtime():
        tracker.initialize_features()  # builds the filter's ResNet-50 now
    return tracker


def initialize_official(tracker: Any, image: np.ndarray, box: Sequence[float]) -> None:
    """Initialise on an RGB frame and a 0-based ``x, y, w, h`` box (the tracker's convention is 1-based)."""
    x, y, w, h = (float(v) for v in box)
    with official_runtime():
        tracker.initialize(image, [x + 1, y + 1, w, h])


def track_official(tracker: Any, image: np.ndarray) -> list[float]:
    """Track one RGB frame; the box as 0-based ``x, y, w, h``."""
    with official_runtime():
        x, y, w, h = (float(v) for v in tracker.track(image))
    return [x - 1, y - 1, w, h]
