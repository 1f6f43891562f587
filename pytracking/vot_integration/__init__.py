"""VOT toolkit integration: a TraX server for any registered tracker, and vot-toolkit workspaces.

* :mod:`pytracking.vot_integration.trax_server` answers the TraX protocol (``vot-trax``) with a
  tracker from the registry; ``pytracking/run_vot.py`` is its command line.
* :mod:`pytracking.vot_integration.workspace` writes a vot-toolkit workspace whose
  ``trackers.ini`` starts that command (``python -m pytracking.vot_integration.workspace``).

Named ``vot_integration`` so it never shadows the vot-toolkit package ``vot``.
"""
