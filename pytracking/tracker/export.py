"""Ship trained weights for tracking: ``python -m pytracking.tracker.export SRC DST [--full]``.

Reads a training checkpoint of any registered network and writes a project checkpoint holding
only what tracking needs: network name, kwargs, config and weights, without optimizer, scheduler
or scaler state. Floating-point tensors are stored in half precision (``--full`` keeps float32;
``build_network_from_checkpoint`` copies them back into the float32 network). Layers a network
holds but never computes (its ``unused_state_prefixes``, e.g. JCAT's ``layer4``/``fc`` kept so
released state_dicts load strictly) are stored as zero-stride zeros: a few bytes each, still
loading strictly.
"""
from __future__ import annotations

import sys

import argparse
from pathlib import Path
from typing import Sequence

import torch

from ltr.admin.checkpoint import (
    build_network_from_checkpoint,
    load_checkpoint,
    save_checkpoint,
)


class _StateDictView(torch.nn.Module):
    """A module whose ``state_dict()`` is a given mapping (what ``save_checkpoint`` stores)."""

    def __init__(self, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self._state = state

    def state_dict(self, *args, **kwargs) -> dict[str, torch.Tensor]:  # type: ignore[override]
        return dict(self._state)


def tracking_state_dict(
    state: dict[str, torch.Tensor], half: bool = True, unused_prefixes: tuple[str, ...] = ()
) -> dict[str, torch.Tensor]:
    """The state_dict to ship: unused layers as zero-stride zeros, floats optionally in half precision."""
    out = {}
    for name, tensor in state.items():
        if unused_prefixes and name.startswith(unused_prefixes):
            tensor = torch.zeros((), dtype=tensor.dtype).expand(tensor.shape)
        elif half and tensor.is_floating_point():
            tensor = tensor.half()
        out[name] = tensor
    return out


def export(source: str | Path, target: str | Path, half: bool = True) -> Path:
    """Write the tracking checkpoint of training checkpoint ``source`` to ``target``; returns its path."""
    payload = load_checkpoint(source)
    net = build_network_from_checkpoint(source)  # fails early on a checkpoint that does not rebuild
    unused = tuple(getattr(type(net), "unused_state_prefixes", ()))
    view = _StateDictView(tracking_state_dict(payload["state_dict"], half, unused))
    path = save_checkpoint(target, view, payload["network"]["name"], payload["network"]["kwargs"],
                           config=payload.get("config") or {}, epoch=payload.get("epoch", 0),
                           extra={**(payload.get("extra") or {}), "exported_from": str(source),
                                  "half_precision": half})
    build_network_from_checkpoint(path)  # the shipped file must load strictly
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="training checkpoint, e.g. workspace/checkpoints/bit/tiny/stage2/ep0002.pth")
    parser.add_argument("target", help="output file, e.g. pytracking/networks/bit_tiny.pth")
    parser.add_argument("--full", action="store_true", help="keep float32 weights")
    args = parser.parse_args(argv)
    path = export(args.source, args.target, half=not args.full)
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
