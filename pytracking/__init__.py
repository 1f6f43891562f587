"""Online trackers, evaluation datasets, benchmark runners and analysis."""
