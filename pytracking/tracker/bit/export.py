"""Ship trained BIT weights for tracking: ``python -m pytracking.tracker.bit.export SRC DST``.

Reads a training checkpoint (e.g. the last one of ``ltr/run_training.py bit tiny`` stage 2) and
writes a project checkpoint with only what tracking needs: the network name, its kwargs, the
config and the weights, without optimizer, scheduler or scaler state; floating-point tensors are
stored in half precision unless ``--full`` (``build_network_from_checkpoint`` copies them back
into the float32 network).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from ltr.admin.checkpoint import build_network_from_checkpoint, load_checkpoint, save_checkpoint


def export(source: str | Path, target: str | Path, half: bool = True) -> Path:
    """Write the tracking checkpoint of training checkpoint ``source`` to ``target``; returns its path."""
    payload = load_checkpoint(source)
    net = build_network_from_checkpoint(source)
    if half:
        net = net.half()
    spec = payload["network"]
    path = save_checkpoint(target, net, spec["name"], spec["kwargs"], config=payload.get("config") or {},
                           epoch=payload.get("epoch", 0),
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


if __name__ == "__main__":
    main()
