"""Where a backbone's initial weights come from: ``imagenet``, ``none`` or a local file.

``model.backbone_weights`` (ResNet) and ``model.vit_weights`` (ViT) take one of

- ``imagenet``: the library's ImageNet release -- torchvision's ``IMAGENET1K_V1`` ResNet weights
  (what STARK and pytracking start from) or timm's default tag of the ViT (from the Hugging Face
  hub) -- downloaded once into the torch hub cache (``$TORCH_HOME/hub/checkpoints``, default
  ``~/.cache/torch``) and read from there afterwards;
- ``none``: random init, said on purpose (e.g. a small net trained from scratch);
- a path to a local state_dict file (``.pth`` / ``.pt`` read with ``weights_only=True``, or
  ``.safetensors``).

Unset (``null``) means "not said": it builds a random backbone with a warning, and
:func:`pretrained_problem` makes training refuse it when that random backbone is frozen.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Optional

import torch

logger = logging.getLogger(__name__)

IMAGENET = "imagenet"
NONE = "none"
WEIGHT_KEYS = ("backbone_weights", "vit_weights")  # network kwargs that name initial weights
HF_ENDPOINT_ENV = "HF_ENDPOINT"  # as huggingface_hub: a mirror of https://huggingface.co
TRACKER_BACKBONE_PREFIXES = ("backbone.0.body.", "feature_extractor.")  # backbones in BIT / JCAT checkpoints
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # RGB input normalisation of the ImageNet-trained ResNets, and the trackers'
IMAGENET_STD = (0.229, 0.224, 0.225)


class PretrainedWeightsError(RuntimeError):
    """Pretrained weights that cannot be obtained (offline, bad URL, corrupt download)."""


def resnet_imagenet_url(name: str) -> str:
    """torchvision's ``IMAGENET1K_V1`` URL of ResNet ``name`` (e.g. ``resnet50``)."""
    from torchvision.models import get_model_weights

    return get_model_weights(name).IMAGENET1K_V1.url


def vit_imagenet_url(timm_name: str) -> str:
    """The safetensors file of timm's default pretrained tag of ``timm_name`` on the HF hub."""
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(timm_name)
    if cfg is None or not cfg.hf_hub_id:
        raise PretrainedWeightsError(f"timm has no hub weights for {timm_name}")
    endpoint = os.environ.get(HF_ENDPOINT_ENV, "https://huggingface.co").rstrip("/")
    return f"{endpoint}/{cfg.hf_hub_id}/resolve/main/{cfg.hf_hub_filename or 'model.safetensors'}"


def cache_dir() -> Path:
    """Download folder: torch's hub cache (follows ``TORCH_HOME``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_file_name(url: str) -> str:
    """File name of ``url`` in the cache: torchvision's own name, or ``<repo>_<file>`` for the hub."""
    parts = url.split("/")
    if "resolve" in parts:  # <endpoint>/<org>/<repo>/resolve/<rev>/<file>
        at = parts.index("resolve")
        return f"{parts[at - 2]}_{parts[at - 1]}_{parts[-1]}"
    return parts[-1]


def download(url: str) -> Path:
    """``url`` in the cache, downloaded (atomically, by torch.hub) when absent.

    torchvision's file names carry the first hex digits of the file's sha256; they are checked.
    """
    target = cache_dir() / cached_file_name(url)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("downloading %s to %s", url, target)
    name = target.name
    try:
        torch.hub.download_url_to_file(url, str(target), hash_prefix=_hash_prefix(name), progress=False)
    except (OSError, RuntimeError, ValueError) as err:  # URLError and HTTPError are OSErrors
        raise PretrainedWeightsError(
            f"cannot download the ImageNet weights from {url} ({err}). Offline? Download that file "
            f"elsewhere and either put it at {target} or set the config key to its path "
            f"(e.g. --set model.backbone_weights=/path/to/{name}); 'none' trains from random init"
        ) from None
    return target


def _hash_prefix(name: str) -> str | None:
    """torchvision's ``<arch>-<sha256 prefix>.pth`` naming: the prefix, else None."""
    if name.endswith(".safetensors") or "-" not in name:
        return None
    prefix = Path(name).stem.rsplit("-", 1)[-1]
    return prefix if len(prefix) >= 8 and all(c in "0123456789abcdef" for c in prefix) else None


def weights_file(spec: Optional[str], url_of: Any) -> Optional[Path]:
    """The local file a weights spec names: None for unset/``none``, the cached download for
    ``imagenet`` (``url_of()`` gives its URL), else the path itself."""
    if spec is None or spec.lower() == NONE:
        return None
    if spec.lower() == IMAGENET:
        return download(url_of())
    return Path(spec).expanduser()


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state_dict from a ``.safetensors`` file or a weights-only torch file."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        if not path.is_file():
            from ltr.admin.checkpoint import CheckpointError

            raise CheckpointError(f"{path}: weights file not found")
        return load_file(str(path))
    from ltr.admin.checkpoint import load_state_dict_file

    return load_state_dict_file(path)


def tracker_backbone_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with the prefix under which a BIT or JCAT checkpoint of this project holds its
    backbone stripped (only those keys kept), so a trained tracker's backbone can seed another;
    any other state_dict is returned unchanged."""
    for prefix in TRACKER_BACKBONE_PREFIXES:
        if any(k.startswith(prefix) for k in state):
            return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    return dict(state)


def load_matching(module: torch.nn.Module, state: dict[str, torch.Tensor], path: Path, what: str,
                  optional: tuple[str, ...] = ()) -> list[str]:
    """Load into ``module`` the tensors of ``state`` it has (as float32); every other key of the
    module, but BatchNorm counters and the ``optional`` prefixes, must be there in its shape, else
    an error naming ``path``. Returns the keys loaded."""
    own = module.state_dict()
    kept = {k: v for k, v in state.items() if k in own}
    needed = [k for k in own if not k.startswith(optional) and not k.endswith("num_batches_tracked")]
    missing = [k for k in needed if k not in kept]
    if missing:
        raise ValueError(f"{path}: {what} weights lack {len(missing)} keys, e.g. {missing[:3]}")
    wrong = [k for k, v in kept.items() if v.shape != own[k].shape]
    if wrong:  # checked before any conversion: a file's tensor may claim any size
        raise ValueError(f"{path}: {what} weights have other shapes for {wrong[:3]}")
    kept = {k: v.float() for k, v in kept.items()}
    module.load_state_dict(kept, strict=False)
    logger.info("loaded %d %s weight tensors from %s", len(kept), what, path)
    return list(kept)


def without_pretrained(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Network kwargs with every initial-weights key set to ``none``: for a net whose weights are
    about to be replaced (a checkpoint, stage 1's weights), so nothing is downloaded or warned."""
    return {k: (NONE if k in WEIGHT_KEYS else v) for k, v in kwargs.items()}


def pretrained_problem(backbone: str, weights: Optional[str], frozen: bool, key: str) -> Optional[str]:
    """Why a config's backbone init is refused for training (else None): unset weights while
    parts of the backbone are frozen would freeze random features."""
    if weights is None and frozen:
        return (f"model.{key} is not set, so the {backbone} backbone would start from random init while "
                f"its frozen layers/BatchNorm never learn. Set model.{key}: imagenet (downloads "
                f"{backbone}'s ImageNet weights once), a local state_dict path, or 'none' to train "
                f"from random init on purpose")
    return None
