"""Loading a tracker's network: a project checkpoint, an ONNX export, or random init."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ltr.admin.checkpoint import load_checkpoint, network_from_payload
from ltr.models.backbone.pretrained import without_pretrained
from ltr.models.inference import default_paths, optimize_for_inference
from ltr.models.registry import NETWORKS

logger = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[3]


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint path as given when it exists (or is absolute), else relative to the repository root.

    Experiment files name shipped weights relative to the repository (``pytracking/networks/...``).
    """
    path = Path(path)
    if path.is_file() or path.is_absolute():
        return path
    return REPO_ROOT / path


def check_model_matches(path: Path, payload: dict[str, Any], model_kwargs: dict[str, Any]) -> None:
    """The config's ``model:`` settings must be those the checkpoint's network was built with: the
    network comes from the checkpoint (``payload``, read from ``path``), so a ``--set model.x=...``
    would otherwise be ignored while the results folder is named after it. Settings the checkpoint
    does not record are not compared."""
    built = without_pretrained(payload["network"].get("kwargs") or {})
    wanted = without_pretrained(model_kwargs)
    differ = [k for k in sorted(set(built) & set(wanted)) if built[k] != wanted[k]]
    if differ:
        shown = "; ".join(f"model.{k}: {wanted[k]!r} (checkpoint {built[k]!r})" for k in differ[:4])
        raise ValueError(f"{path}: the config's model settings differ from the network in the checkpoint ({shown}); "
                         "the checkpoint decides the network, so remove the model override or give a checkpoint "
                         "trained with it")


def load_tracker_network(
    network: str, source: str | Path | None, network_cls: type[nn.Module], model_kwargs: dict[str, Any],
    autocast_dtype: torch.dtype | None = None,
) -> Any:
    """The registered ``network`` from ``source`` (checkpoint or ONNX export), or random init,
    with the inference fast paths applied (:func:`ltr.models.inference.default_paths`;
    eval mode); ``autocast_dtype``: the autocast every call of the tracker runs under, if any.

    A checkpoint holding another network type is refused; random init logs a warning, since
    its tracking results are meaningless. ONNX exports are returned as they are.
    """
    if source is not None:
        from pytracking.tracker.onnx import is_onnx_export, load_onnx_network

        path = resolve_checkpoint(source)
        if is_onnx_export(path):
            return load_onnx_network(path)
        payload = load_checkpoint(path)
        net = network_from_payload(payload, path)
        if not isinstance(net, network_cls):
            raise TypeError(f"{source}: holds a {type(net).__name__}, not a {network.upper()} network")
        check_model_matches(path, payload, model_kwargs)
    else:
        logger.warning("%s tracker: no checkpoint given; using a randomly initialised network "
                       "(results are meaningless)", network)
        net = NETWORKS.build(network, **without_pretrained(model_kwargs))  # random anyway: no download
    return optimize_for_inference(net, default_paths(autocast_dtype))
