"""Success / precision / normalised-precision (and EAO) plots, PNG and PDF, with the Agg backend.

Legends are ordered by score (best first) with the score in the label; the title names the
protocol, so a plot is never mistaken for another toolkit's numbers.
"""
from __future__ import annotations

from collections.abc import Sequence as Seq
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ltr.admin.atomic import atomic_open
from pytracking.analysis.protocols.base import ProtocolResult

# curve name -> (x label, y label, title); the score keys a legend may show, first present wins
_AXES = {
    "success": ("Overlap threshold", "Success rate", "Success plot"),
    "precision": ("Location error threshold [px]", "Precision", "Precision plot"),
    "norm_precision": ("Normalized location error threshold", "Normalized precision", "Normalized precision plot"),
    "eao": ("Sequence length [frames]", "Expected average overlap", "EAO curve"),
}
_LEGEND_SCORE = {"success": ("AUC", "AO", "Success"), "precision": ("Precision",),
                 "norm_precision": ("NormPrecision",), "eao": ("EAO",)}


def legend_score(result: ProtocolResult, curve: str) -> tuple[str, float]:
    """The score a curve's legend shows (AUC / AO / trapezoid area, P@20, NP@0.2, EAO)."""
    for key in _LEGEND_SCORE[curve]:
        if key in result.scores:
            return key, result.scores[key]
    return curve, float("nan")


def plot_curve(results: Seq[ProtocolResult], curve: str, out_base: Path, subset: str | None = None) -> list[Path]:
    """Plot ``curve`` of every result into ``<out_base>.png`` and ``.pdf``; returns the files.
    ``subset`` (e.g. ``attribute OCC, 12 sequences``) is named in the title."""
    with_curve = [r for r in results if curve in r.curves]
    if not with_curve:
        return []
    ranked = sorted(with_curve, key=lambda r: legend_score(r, curve)[1], reverse=True)
    xlabel, ylabel, title = _AXES[curve]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for result in ranked:
        key, score = legend_score(result, curve)
        data = result.curves[curve]
        ax.plot(data.thresholds, data.values, linewidth=1.8, label=f"{result.tracker} [{key} {score:.3g}]")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}{f' — {subset}' if subset else ''} — protocol: {ranked[0].protocol}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    paths = [out_base.with_suffix(".png"), out_base.with_suffix(".pdf")]
    for path in paths:
        with atomic_open(path, "wb") as handle:
            fig.savefig(handle, format=path.suffix[1:])
    plt.close(fig)
    return paths
