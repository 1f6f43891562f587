"""The tracker interface and the tracker registry."""
from pytracking.tracker.base.basetracker import TRACKER_MODULES, TRACKERS, BaseTracker

__all__ = ["TRACKERS", "TRACKER_MODULES", "BaseTracker"]
