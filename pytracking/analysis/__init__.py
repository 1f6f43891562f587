"""Analysis of tracking results: the official protocol of every benchmark, tables, plots, reports.

* ``protocols``: one module per official toolkit (``got10k``, ``otb``/``uav``/``nfs`` in the
  pytracking convention, ``lasot``, ``trackingnet``, ``vot2018`` (legacy, published numbers),
  ``vot2018_toolkit`` (vot-toolkit's supervised analysis), ``vot2020``), each a pure function of
  arrays returning a :class:`ProtocolResult`.
* ``loading`` / ``raw_import``: a method's results from the runner's folders, or a results-only
  method from a folder or zip in any toolkit-native layout.
* :func:`analyze`: several methods on one benchmark from in-memory results -> :class:`Report`;
  :func:`format_report` / :func:`write_report` print it and write JSON, CSV and plots.
* ``pytracking/analyze.py`` is the command line for a whole experiment.
"""
from pytracking.analysis.benchmark import MissingResultsError, analyze, analyze_methods
from pytracking.analysis.protocols import PROTOCOLS, ProtocolResult, evaluate, get_protocol
from pytracking.analysis.report import Report, format_report, write_report

__all__ = ["PROTOCOLS", "MissingResultsError", "ProtocolResult", "Report", "analyze", "analyze_methods",
           "evaluate", "format_report", "get_protocol", "write_report"]
