"""``ltr-convert-checkpoint KIND IN OUT``: turn a released (pickled) checkpoint into our safe format.

Released files pickle constructor and settings objects next to the weights. They are read
only through :func:`ltr.admin.checkpoint.foreign_state_dict` (a restricted unpickler that
never runs code), checked key by key against the network we build, and written with
:func:`ltr.admin.checkpoint.save_checkpoint`, so the result loads with ``weights_only=True``
and :func:`build_network_from_checkpoint` rebuilds it. Each release that maps one-to-one onto a
network is an entry of ``FORMATS``. ``stark`` is different: a STARK-ST50/101 checkpoint fills the
parts BIT shares with STARK (backbone, bottleneck, encoder, box head, score MLP;
:mod:`ltr.models.bit.stark_init`) of a BIT built from an experiment config, and MDAI/CTIF stay
newly initialised; train from it with ``--set train.init_from=OUT``.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from ltr.admin.checkpoint import CheckpointError, foreign_state_dict, save_checkpoint
from ltr.models.jcat.config import JcatModelConfig


@dataclasses.dataclass(frozen=True)
class ForeignFormat:
    """How one released checkpoint maps onto a registered network."""

    network: str  # name in ``NETWORKS``
    kwargs: dict[str, Any]  # constructor kwargs that reproduce the released network
    state_key: str  # entry of the released dict that holds the state_dict
    description: str


FORMATS: dict[str, ForeignFormat] = {
    "jcat": ForeignFormat(
        network="jcat",
        kwargs=dataclasses.asdict(JcatModelConfig(backbone="resnet50")),
        state_key="net",
        description="JCAT release JcatNet.pth.tar (Yang & Gu, TIP 2023; ResNet-50)",
    ),
}


def check_keys(source: Path, state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """Raise :class:`CheckpointError` naming ``source`` when keys or shapes differ from ``expected``."""
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
             for k, v in expected.items() if k in state and state[k].shape != v.shape]
    problems = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
        if items:
            problems.append(f"{len(items)} {label} (e.g. {', '.join(items[:3])})")
    if problems:
        raise CheckpointError(f"{source}: does not match the network: " + "; ".join(problems))


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert_checkpoint(kind: str, source: str | Path, target: str | Path, overwrite: bool = False) -> Path:
    """Convert the released file ``source`` of ``kind`` into our checkpoint at ``target``."""
    from ltr.models.registry import NETWORKS

    if kind not in FORMATS:
        raise ValueError(f"unknown checkpoint kind '{kind}'; known kinds: {', '.join(sorted(FORMATS))}")
    source, target = Path(source), Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: already exists (pass --overwrite to replace it)")
    fmt = FORMATS[kind]
    state = foreign_state_dict(source, fmt.state_key)
    net = NETWORKS.build(fmt.network, **fmt.kwargs)
    check_keys(source, state, net.state_dict())
    net.load_state_dict(state, strict=True)
    provenance = {"kind": kind, "file": source.name, "sha256": sha256_file(source)}
    return save_checkpoint(target, net, fmt.network, fmt.kwargs, extra={"converted_from": provenance})


STARK = "stark"
RESNET101_LAYER3_BLOCKS = 23  # ResNet-50 has 6


def stark_config(state: dict[str, torch.Tensor]) -> str:
    """The BIT experiment matching a STARK-ST file's backbone depth: ``default`` (ResNet-101) or ``r50``."""
    blocks = {k.split(".")[4] for k in state if k.startswith("backbone.0.body.layer3.")}
    return "default" if len(blocks) >= RESNET101_LAYER3_BLOCKS else "r50"


def convert_stark(source: str | Path, target: str | Path, config: str | None = None,
                  overwrite: bool = False) -> tuple[Path, Any]:
    """A STARK-ST checkpoint as the initial weights of the BIT of ``config`` (by default the
    experiment whose ResNet matches the file); returns (written path, the load report)."""
    from ltr.config.experiment import load_experiment
    from ltr.models.backbone.pretrained import without_pretrained
    from ltr.models.bit import bit_kwargs
    from ltr.models.bit.stark_init import load_stark_weights
    from ltr.models.registry import NETWORKS

    source, target = Path(source), Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: already exists (pass --overwrite to replace it)")
    state = foreign_state_dict(source, "net")
    config = config or stark_config(state)
    NETWORKS.names()  # registers the bit experiment schema
    kwargs = without_pretrained(bit_kwargs(load_experiment("bit", config).model))  # STARK has the backbone
    net = NETWORKS.build("bit", **kwargs)
    try:
        report = load_stark_weights(net, state)
    except ValueError as err:
        raise CheckpointError(f"{source}: {err} (bit/{config})") from None
    if not report.loaded:
        raise CheckpointError(f"{source}: no STARK-ST tensors found (keys like backbone.0.body.*, box_head.*)")
    provenance = {"kind": STARK, "file": source.name, "sha256": sha256_file(source), "config": config,
                  "loaded": len(report.loaded), "missing": report.missing, "new": len(report.new)}
    return save_checkpoint(target, net, "bit", kwargs, extra={"converted_from": provenance}), report


def _parser() -> argparse.ArgumentParser:
    kinds = "\n".join([f"  {name}: {fmt.description}" for name, fmt in sorted(FORMATS.items())]
                      + [f"  {STARK}: STARK-ST50/101 checkpoint (STARKST_ep0050.pth.tar) -> BIT initial weights "
                         "(shared parts; train with --set train.init_from=TARGET)"])
    parser = argparse.ArgumentParser(
        prog="ltr-convert-checkpoint",
        description="Convert a released tracker checkpoint to the project's weights-only format. "
        "The input is read without running any code it contains.",
        epilog="kinds:\n" + kinds,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=sorted([*FORMATS, STARK]), help="which release the input file is")
    parser.add_argument("source", type=Path, help="released checkpoint, e.g. JcatNet.pth.tar")
    parser.add_argument("target", type=Path, help="checkpoint to write, e.g. jcat_release.pth")
    parser.add_argument("--overwrite", action="store_true", help="replace TARGET if it exists")
    parser.add_argument("--config", help="stark: the BIT experiment to build (default: default for ST101, "
                                         "r50 for ST50)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status (0 ok, 2 a file that cannot be converted, as every CLI)."""
    args = _parser().parse_args(argv)
    try:
        if args.kind == STARK:
            path, report = convert_stark(args.source, args.target, args.config, overwrite=args.overwrite)
        else:
            path = convert_checkpoint(args.kind, args.source, args.target, overwrite=args.overwrite)
    except (CheckpointError, FileExistsError, ValueError) as err:
        print(f"ltr-convert-checkpoint: error: {err}", file=sys.stderr)
        return 2
    if args.kind == STARK:
        print(f"wrote {path} (network 'bit', from {args.source}): {report.summary()}")
        print(f"train from it: python ltr/run_training.py bit <config> --set train.init_from={path}")
    else:
        print(f"wrote {path} (network '{FORMATS[args.kind].network}', from {args.source})")
    return 0


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
