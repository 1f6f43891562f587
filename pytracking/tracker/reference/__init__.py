"""Reference trackers: baselines and peers that need no training (static box, GT replay, OpenCV)."""
from pytracking.tracker.reference import gt_noise, opencv, static  # noqa: F401  (registration)
