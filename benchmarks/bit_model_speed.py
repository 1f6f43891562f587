"""Forward speed of BIT configs: frames/s of the per-frame path (search crop -> box + score,
templates cached) with the per-stage latency breakdown, on CPU (fp32) and, when available,
CUDA in fp32 and AMP.

    python benchmarks/bit_model_speed.py [--configs tiny r50 default] [--runs 20] [--warmup 5]
"""
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # thread policy (ltr/admin/threads.py): idle OpenMP threads sleep; set before torch loads
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ltr.admin.threads import prefer_passive_waiting

    prefer_passive_waiting()

import argparse
from typing import Sequence

import torch

from ltr.admin.cli_args import positive_int
from ltr.admin.threads import add_threads_argument, set_threads
from ltr.profile_model import build_bit, bit_latency, load_bit_config, make_inputs


def settings() -> list[tuple[torch.device, bool]]:
    """(device, amp) pairs to time: CPU fp32, plus CUDA fp32 and AMP when a GPU is present."""
    out = [(torch.device("cpu"), False)]
    if torch.cuda.is_available():
        out += [(torch.device("cuda"), False), (torch.device("cuda"), True)]
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Time each config on each device/precision and print one table per run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", default=["tiny", "r50", "default"])
    parser.add_argument("--runs", type=positive_int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    add_threads_argument(parser)
    args = parser.parse_args(argv)
    args.threads = set_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for device, amp in settings():
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        for config in args.configs:
            net = build_bit(load_bit_config(config), device)
            times = bit_latency(net, make_inputs(net, device), device, args.runs, args.warmup, amp)
            fps = 1000.0 / times["end-to-end frame"]
            stages = ", ".join(f"{k} {v:.1f}" for k, v in times.items() if k != "end-to-end frame")
            print(f"bit/{config:<8} {name} {'amp ' if amp else 'fp32'}: {fps:7.1f} frames/s "
                  f"({times['end-to-end frame']:.1f} ms; ms per stage: {stages})")


if __name__ == "__main__":
    main()
