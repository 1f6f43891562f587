"""The online BIT tracker (STARK's inference procedure, bit.md 2.7 and 2.9).

Modules: ``preprocess`` (RGB frames, square crops, network input), ``templates`` (the
initial and dynamic template slots and their update rule) and ``tracker`` (``BitTracker``,
registered as ``bit``).
"""
from pytracking.tracker.bit.tracker import BitTracker

__all__ = ["BitTracker"]
