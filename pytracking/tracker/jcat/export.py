"""Ship trained JCAT weights for tracking: ``python -m pytracking.tracker.jcat.export SRC DST``.

Reads a training checkpoint and writes a project checkpoint holding only what tracking needs:
no optimizer, scheduler or scaler state, floating-point tensors in half precision (``--full``
keeps float32) and the backbone layers the network holds but never computes (``layer4``, ``fc``:
kept only so released state_dicts load strictly) stored as zero-stride zeros, which cost a few
bytes each yet still load strictly. ``build_network_from_checkpoint`` reads the result as usual;
parameters are copied back into the float32 network.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import torch

from ltr.admin.checkpoint import (
    build_network_from_checkpoint,
    load_checkpoint,
    save_checkpoint,
)

UNUSED_PREFIXES = ("feature_extractor.layer4.", "feature_extractor.fc.")


class _StateDictView(torch.nn.Module):
    """A module whose ``state_dict()`` is a given mapping (what ``save_checkpoint`` stores)."""

    def __init__(self, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self._state = state

    def state_dict(self, *args, **kwargs) -> dict[str, torch.Tensor]:  # type: ignore[override]
        return dict(self._state)


def tracking_state_dict(state: dict[str, torch.Tensor], half: bool = True) -> dict[str, torch.Tensor]:
    """The state_dict to ship: unused layers as zero-stride zeros, floats optionally in half precision."""
    out = {}
    for name, tensor in state.items():
        if name.startswith(UNUSED_PREFIXES):
            tensor = torch.zeros((), dtype=tensor.dtype).expand(tensor.shape)
        elif half and tensor.is_floating_point():
            tensor = tensor.half()
        out[name] = tensor
    return out


def export(source: str | Path, target: str | Path, half: bool = True) -> Path:
    """Write the tracking checkpoint of training checkpoint ``source`` to ``target``."""
    payload = load_checkpoint(source)
    build_network_from_checkpoint(source)  # fails early on a checkpoint that does not rebuild
    view = _StateDictView(tracking_state_dict(payload["state_dict"], half))
    path = save_checkpoint(target, view, payload["network"]["name"], payload["network"]["kwargs"],
                           config=payload.get("config") or {}, epoch=payload.get("epoch", 0),
                           extra={**(payload.get("extra") or {}), "exported_from": str(source),
                                  "half_precision": half})
    build_network_from_checkpoint(path)  # the shipped file must load strictly
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="training checkpoint (e.g. workspace/checkpoints/jcat/tiny/...pth)")
    parser.add_argument("target", help="output file, e.g. pytracking/networks/jcat_tiny.pth")
    parser.add_argument("--full", action="store_true", help="keep float32 weights")
    args = parser.parse_args(argv)
    path = export(args.source, args.target, half=not args.full)
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
