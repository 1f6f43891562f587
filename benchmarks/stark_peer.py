"""Load the official STARK-ST (github.com/researchmm/Stark) from a local checkout, on the CPU, for speed comparisons.

Nothing of STARK is vendored: ``root`` is a checkout the user fetched, imported as it is. This
module only shims what the checkout needs and a CPU-only, offline process lacks:

* ``easydict`` / ``yacs`` (STARK's configs; the yacs one is a Swin config imported but unused
  by STARK-ST) get a small attribute-dict stand-in when they are not installed;
* ``torchvision.models.utils.load_state_dict_from_url`` (gone from torchvision) maps to torch.hub's,
  and ``torch._six`` (gone from torch) gets its two names;
* ``is_main_process`` in STARK's backbone, which asks for ImageNet weights (a download), returns False;
* ``.cuda()`` of tensors and modules is the identity while STARK's network and tracker are built
  and run (:func:`cpu_only`), since the official code hard-codes CUDA.

Weights are random (speed does not depend on them) and saved to a temporary file in STARK's
checkpoint format so its own ``STARK_ST.__init__`` loads them.
"""
from __future__ import annotations

import contextlib
import sys
import tempfile
import types
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn


class _AttrDict(dict):
    """``easydict.EasyDict`` / ``yacs.CfgNode`` stand-in: a dict with attribute access, nested dicts converted."""

    def __init__(self, data: dict | None = None, **kwargs: Any) -> None:
        super().__init__()
        for key, value in {**(data or {}), **kwargs}.items():
            self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, dict) and not isinstance(value, _AttrDict):
            value = _AttrDict(value)
        elif isinstance(value, list):
            value = [_AttrDict(v) if isinstance(v, dict) else v for v in value]
        super().__setitem__(key, value)

    __setattr__ = __setitem__

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def _install_stubs() -> None:
    for name, attr in (("easydict", "EasyDict"), ("yacs", None)):
        try:
            __import__(name)
        except ImportError:
            module = types.ModuleType(name)
            if attr:
                setattr(module, attr, _AttrDict)
            sys.modules[name] = module
            if name == "yacs":
                config = types.ModuleType("yacs.config")
                config.CfgNode = _AttrDict
                sys.modules["yacs.config"] = config
    if "torch._six" not in sys.modules:  # gone from torch; STARK's data loader still imports it
        six = types.ModuleType("torch._six")
        six.string_classes, six.int_classes = (str, bytes), int
        sys.modules["torch._six"] = six
    import torchvision.models

    if "torchvision.models.utils" not in sys.modules:
        utils = types.ModuleType("torchvision.models.utils")
        utils.load_state_dict_from_url = torch.hub.load_state_dict_from_url
        sys.modules["torchvision.models.utils"] = utils
        torchvision.models.utils = utils


@contextlib.contextmanager
def cpu_only() -> Iterator[None]:
    """``Tensor.cuda`` and ``Module.cuda`` return their object unchanged inside the block."""
    tensor_cuda, module_cuda = torch.Tensor.cuda, nn.Module.cuda
    torch.Tensor.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    nn.Module.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.Tensor.cuda, nn.Module.cuda = tensor_cuda, module_cuda  # type: ignore[method-assign]


class StarkPeer:
    """STARK-ST from the checkout at ``root``: ``net`` (eval, random init) and ``tracker()``."""

    def __init__(self, root: str | Path, yaml_name: str = "baseline_R101") -> None:
        self.root = Path(root).resolve()
        config_file = self.root / "experiments" / "stark_st2" / f"{yaml_name}.yaml"
        if not (self.root / "lib" / "models" / "stark" / "stark_st.py").is_file() or not config_file.is_file():
            raise FileNotFoundError(f"{self.root}: not a STARK checkout (needs lib/models/stark/stark_st.py and "
                                    f"experiments/stark_st2/{yaml_name}.yaml)")
        _install_stubs()
        sys.path.insert(0, str(self.root))
        from lib.config.stark_st2 import config as stark_config
        import lib.models.stark.backbone as stark_backbone
        from lib.models.stark import build_starkst

        stark_backbone.is_main_process = lambda: False  # no ImageNet download
        stark_config.update_config_from_file(str(config_file))
        self.cfg = stark_config.cfg
        with cpu_only():  # its corner head builds its coordinate grids with .cuda()
            self.net = build_starkst(self.cfg).eval()
        self._checkpoint = Path(tempfile.mkdtemp(prefix="stark_peer_")) / "random.pth.tar"
        torch.save({"net": self.net.state_dict()}, self._checkpoint)

    def params(self) -> Any:
        """STARK's tracker parameters (``lib/test/parameter/stark_st.py`` without its environment file)."""
        test = self.cfg.TEST
        return types.SimpleNamespace(cfg=self.cfg, template_factor=test.TEMPLATE_FACTOR, template_size=test.TEMPLATE_SIZE,
                                     search_factor=test.SEARCH_FACTOR, search_size=test.SEARCH_SIZE,
                                     checkpoint=str(self._checkpoint), save_all_boxes=False, debug=False)

    def tracker(self, dataset: str = "lasot") -> Any:
        """The official ``STARK_ST`` tracker on the CPU; call its methods inside :func:`cpu_only`."""
        from lib.test.tracker.stark_st import STARK_ST

        with cpu_only(), contextlib.redirect_stdout(None):
            return STARK_ST(self.params(), dataset)

    def network_inputs(self) -> tuple[list[dict], Any]:
        """Cached template feature dicts (2, as STARK-ST101 tracks) and one search-crop NestedTensor."""
        from lib.utils.misc import NestedTensor

        test = self.cfg.TEST
        z = NestedTensor(torch.randn(1, 3, test.TEMPLATE_SIZE, test.TEMPLATE_SIZE),
                         torch.zeros(1, test.TEMPLATE_SIZE, test.TEMPLATE_SIZE, dtype=torch.bool))
        x = NestedTensor(torch.randn(1, 3, test.SEARCH_SIZE, test.SEARCH_SIZE),
                         torch.zeros(1, test.SEARCH_SIZE, test.SEARCH_SIZE, dtype=torch.bool))
        with torch.no_grad():
            template = self.net.forward_backbone(z)
        return [template, template], x

    def forward(self, templates: list[dict], search: Any) -> Any:
        """STARK-ST's per-frame network work: search backbone, merge, transformer, box and score heads."""
        from lib.utils.merge import merge_template_search

        x_dict = self.net.forward_backbone(search)
        return self.net.forward_transformer(seq_dict=merge_template_search(templates + [x_dict]),
                                            run_box_head=True, run_cls_head=True)
