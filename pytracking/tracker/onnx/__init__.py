"""onnxruntime-backed networks for the online trackers: same methods as the torch networks.

``load_onnx_network(folder)`` reads a folder written by ``python -m ltr.export.onnx`` and returns
:class:`OnnxJcatNet` (``extract_features``, ``segment``) or :class:`OnnxBitNet`
(``forward_backbone``, ``forward_head``, ``cfg``), which a tracker uses in place of its torch net.
"""
from pytracking.tracker.onnx.runtime import (
    OnnxBitNet,
    OnnxJcatNet,
    is_onnx_export,
    load_onnx_network,
)

__all__ = ["OnnxBitNet", "OnnxJcatNet", "is_onnx_export", "load_onnx_network"]
