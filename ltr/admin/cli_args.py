"""argparse types shared by the command-line tools and benchmark scripts: counts and frame sizes,
refused at parse time (one usage line) instead of dividing by zero or allocating terabytes later."""
from __future__ import annotations

import argparse

MAX_FRAME_SIDE = 8192


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def frame_size(text: str) -> tuple[int, int]:
    """argparse type: ``WxH`` with both sides in 1..``MAX_FRAME_SIDE``."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        width = height = 0
    if not (1 <= width <= MAX_FRAME_SIDE and 1 <= height <= MAX_FRAME_SIDE):
        raise argparse.ArgumentTypeError(f"expected WxH with sides 1..{MAX_FRAME_SIDE}, got {text!r}")
    return width, height
