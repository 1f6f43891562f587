"""A network call captured once as a CUDA graph and replayed every frame (``tracking.cuda_graph``).

At batch 1 a tracker's frame on a GPU waits on kernel launches, not arithmetic (on an H200,
``benchmarks/gpu_speed.py``: BIT-101's network 97 frames/s eager, 228 replayed from a graph).
:class:`CapturedCall` records ``fn(*args)`` into a ``torch.cuda.CUDAGraph`` over static copies of
the tensors in ``args``; each call copies the new tensors into those copies and replays. The
outputs live in the graph's memory: they are valid until the next call. A call whose arguments
differ in structure, shape, dtype or a non-tensor value from the captured ones raises
:class:`GraphMismatch` before touching the graph; the caller captures again (:meth:`CapturedCall.accepts`
asks without calling).
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch.utils._pytree import tree_flatten, tree_map


class GraphMismatch(ValueError):
    """Arguments that the captured graph cannot take (other structure, shapes, dtypes or constants)."""


def _signature(leaf: Any) -> Any:
    if isinstance(leaf, torch.Tensor):
        return ("tensor", tuple(leaf.shape), leaf.dtype, leaf.device)
    return ("value", leaf)


class CapturedCall:
    """``fn(*args)`` captured as a CUDA graph over static copies of ``args``' tensors (see module doc)."""

    def __init__(self, fn: Callable[..., Any], *args: Any, warmup: int = 3) -> None:
        self.fn = fn
        self.static_args = tree_map(lambda v: v.clone() if isinstance(v, torch.Tensor) else v, args)
        self._static_leaves, self._spec = tree_flatten(self.static_args)
        self._signatures = [_signature(leaf) for leaf in self._static_leaves]
        self.outputs = self._capture(warmup)

    def _capture(self, warmup: int) -> Any:
        """Warm up on a side stream (cuDNN/cuBLAS pick their kernels there), then record one call."""
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(warmup):
                self.fn(*self.static_args)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            return self.fn(*self.static_args)

    def _replay(self) -> None:
        self.graph.replay()

    def _matching_leaves(self, args: tuple[Any, ...]) -> list[Any] | None:
        """``args`` flattened when they match the captured ones, else None."""
        leaves, spec = tree_flatten(args)
        if spec != self._spec or [_signature(leaf) for leaf in leaves] != self._signatures:
            return None
        return leaves

    def accepts(self, *args: Any) -> bool:
        """Whether ``args`` match the captured ones in structure, shapes, dtypes and constants."""
        return self._matching_leaves(args) is not None

    def __call__(self, *args: Any) -> Any:
        """Copy ``args``' tensors into the static inputs, replay, return the (static) outputs."""
        leaves = self._matching_leaves(args)
        if leaves is None:
            raise GraphMismatch("arguments differ from the captured call's in structure, shape, dtype or a "
                                "non-tensor value: capture again")
        for static, new in zip(self._static_leaves, leaves):
            if isinstance(static, torch.Tensor) and new.data_ptr() != static.data_ptr():
                static.copy_(new)
        self._replay()
        return self.outputs
