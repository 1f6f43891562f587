"""The official evaluation protocols, one module each, behind one registry.

``PROTOCOLS[name]`` describes a protocol: what its results look like (``kind``: per-frame
``boxes``, VOT ``supervised`` runs with reset codes, or VOT ``multistart`` anchor runs) and its
``evaluate`` function. VOT2018 has two: ``vot2018`` (the legacy evaluation behind the published
numbers, as pysot's toolkit reproduces it; the default) and ``vot2018_toolkit`` (vot-toolkit's
supervised analysis). :func:`evaluate` scores arrays directly, e.g.
``evaluate("lasot", sequences, {"seq": boxes}, tracker="mine")``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import Any

from pytracking.analysis.protocols import got10k, lasot, otb, trackingnet, vot2018, vot2018_toolkit, vot2020
from pytracking.analysis.protocols.base import Curve, InvalidResultsError, ProtocolResult, RepairLog
from pytracking.evaluation.sequence import Sequence

__all__ = [
    "DEFAULT_PROTOCOL",
    "PROTOCOLS",
    "Curve",
    "InvalidResultsError",
    "ProtocolInfo",
    "ProtocolResult",
    "RepairLog",
    "evaluate",
    "get_protocol",
]


@dataclass(frozen=True)
class ProtocolInfo:
    """A registered protocol: name, one-line description, result kind and scoring function."""

    name: str
    description: str
    kind: str  # "boxes" | "supervised" | "multistart"
    evaluate: Callable[..., ProtocolResult]
    main_score: str


def _adapter(func: Callable[..., ProtocolResult], uses_times: bool = False,
             **fixed: Any) -> Callable[..., ProtocolResult]:
    """One ``(sequences, results, tracker, times=None, **options)`` signature for every protocol;
    only GOT-10k reports speed, so only it receives the times."""
    def run(sequences: Seq[Sequence], results: Mapping[str, Any], tracker: str = "tracker",
            times: Mapping[str, Any] | None = None, **options: Any) -> ProtocolResult:
        if uses_times:
            options["times"] = times
        return func(sequences, results, tracker=tracker, **fixed, **options)
    return run


PROTOCOLS: dict[str, ProtocolInfo] = {
    "got10k": ProtocolInfo("got10k", got10k.DESCRIPTION, "boxes", _adapter(got10k.evaluate, uses_times=True), "AO"),
    "otb": ProtocolInfo("otb", otb.DESCRIPTIONS["otb"], "boxes", _adapter(otb.evaluate, dataset="otb"), "AUC"),
    "uav": ProtocolInfo("uav", otb.DESCRIPTIONS["uav"], "boxes", _adapter(otb.evaluate, dataset="uav"), "AUC"),
    "nfs": ProtocolInfo("nfs", otb.DESCRIPTIONS["nfs"], "boxes", _adapter(otb.evaluate, dataset="nfs"), "AUC"),
    "lasot": ProtocolInfo("lasot", lasot.DESCRIPTION, "boxes", _adapter(lasot.evaluate), "AUC"),
    "trackingnet": ProtocolInfo("trackingnet", trackingnet.DESCRIPTION, "boxes", _adapter(trackingnet.evaluate), "Success"),
    "vot2018": ProtocolInfo("vot2018", vot2018.DESCRIPTION, "supervised", _adapter(vot2018.evaluate), "EAO"),
    "vot2018_toolkit": ProtocolInfo("vot2018_toolkit", vot2018_toolkit.DESCRIPTION, "supervised",
                                    _adapter(vot2018_toolkit.evaluate), "EAO"),
    "vot2020": ProtocolInfo("vot2020", vot2020.DESCRIPTION, "multistart", _adapter(vot2020.evaluate), "EAO"),
}

# the protocol a benchmark is scored with when the experiment does not name one
DEFAULT_PROTOCOL = {"got10k": "got10k", "synthetic": "got10k", "real": "got10k", "otb": "otb", "uav": "uav", "nfs": "nfs",
                    "lasot": "lasot", "trackingnet": "trackingnet", "vot2018": "vot2018", "vot2020": "vot2020",
                    "lasot_ext": "lasot", "tnl2k": "lasot", "tc128": "otb", "avist": "otb", "vot2022": "vot2020"}


def get_protocol(name: str) -> ProtocolInfo:
    if name not in PROTOCOLS:
        raise KeyError(f"unknown protocol {name!r}; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def evaluate(protocol: str, sequences: Seq[Sequence], results: Mapping[str, Any], tracker: str = "tracker",
             times: Mapping[str, Any] | None = None, **options: Any) -> ProtocolResult:
    """Score one tracker's in-memory results under ``protocol`` (see each module for the formats)."""
    return get_protocol(protocol).evaluate(sequences, results, tracker=tracker, times=times, **options)
