"""Per-frame curves for the scenario: smooth wobbles, ramps, bumps, reflection, event windows.

Every curve is an array over all frames drawn from the sequence's generator up front, which is
what makes any frame renderable on its own.
"""
from __future__ import annotations

import numpy as np


def wobble(rng: np.random.Generator, n: int, amplitude: float, period: tuple[float, float] = (20, 90)) -> np.ndarray:
    """A smooth curve with ``|value| <= amplitude``: a few sinusoids of random period and phase."""
    t = np.arange(n, dtype=np.float64)
    weights = rng.uniform(0.2, 1.0, 3)
    weights *= amplitude / weights.sum()
    periods = rng.uniform(*period, 3)
    phases = rng.uniform(0, 2 * np.pi, 3)
    return (weights[:, None] * np.sin(2 * np.pi * t[None] / periods[:, None] + phases[:, None])).sum(axis=0)


def ramp(n: int, start: int, length: int) -> np.ndarray:
    """0 before ``start``, a smoothstep rise over ``length`` frames, then 1."""
    x = np.clip((np.arange(n) - start + 1) / max(length, 1), 0.0, 1.0)
    return x * x * (3 - 2 * x)


def bump(n: int, start: int, length: int) -> np.ndarray:
    """0 outside ``[start, start + length)``; inside, a linear rise over the first third, a plateau
    at 1 and a linear fall over the last third (at least one frame at 1)."""
    edge = max(1, length // 3) + 1
    k = np.arange(n) - start
    rise, fall = (k + 1) / edge, (length - k) / edge
    return np.clip(np.minimum(rise, fall), 0.0, 1.0) * ((k >= 0) & (k < length))


def reflect(value: float, lo: float, hi: float) -> tuple[float, bool]:
    """Fold ``value`` into ``[lo, hi]`` as a ball bouncing off both walls; also whether its
    direction ends up reversed (an odd number of bounces)."""
    span = hi - lo
    if span <= 0:
        return lo, False
    bounces, rest = divmod(value - lo, span)
    odd = int(bounces) % 2 == 1
    return (hi - rest if odd else lo + rest), odd


def allocate_windows(rng: np.random.Generator, n: int, lengths: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Disjoint ``(start, length)`` windows in frames ``1..n-1`` (frame 0 stays event-free), in
    random order with random gaps; windows that do not fit are left out."""
    names = [name for name in lengths if lengths[name] > 0]
    order = [names[k] for k in rng.permutation(len(names))]
    while order and sum(lengths[name] for name in order) > n - 1:
        order.pop()
    free = n - 1 - sum(lengths[name] for name in order)
    cuts = np.sort(rng.integers(0, free + 1, len(order)))
    windows, start = {}, 1
    for k, name in enumerate(order):
        start += int(cuts[k] - (cuts[k - 1] if k else 0))
        windows[name] = (start, lengths[name])
        start += lengths[name]
    return windows
