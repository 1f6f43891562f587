"""The tracker interface and the tracker registry."""
from pytracking.tracker.base.basetracker import TRACKER_MODULES, TRACKERS, BaseTracker
from pytracking.tracker.base.sequence_info import SequenceInfo, sequence_info

__all__ = ["TRACKERS", "TRACKER_MODULES", "BaseTracker", "SequenceInfo", "sequence_info"]
