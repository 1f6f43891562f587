"""The online JCAT tracker: correlation-filter localisation, JCAT segmentation, mask -> box.

Modules: ``dcf`` (online correlation filter), ``sample_filter`` (uncertainty / confidence gates),
``segmentation`` (crop, network, largest contour, mask -> box), ``memory`` (segmentation memory
bank), ``crops`` (frame and crop preparation) and ``tracker`` (``JcatTracker``, registered as
``jcat``).
"""
from pytracking.tracker.jcat.tracker import JcatTracker

__all__ = ["JcatTracker"]
