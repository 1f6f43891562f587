"""Mixed precision at inference: which autocast a device runs fast, shared by trackers and the profiler.

CUDA gets bf16 autocast where the GPU supports it (Ampere and later), else fp16: on an H200 a
randomly initialised BIT-101 overflowed to non-finite boxes on every frame under fp16, and bf16
(fp32's exponent range) was also the faster of the two there (``benchmarks/gpu_speed.py``).
A CPU gets bf16 autocast only where it computes bf16 dot products in hardware (AVX512-BF16 or
AMX-BF16; measured 2.2x the fp32 GEMM throughput on an AVX512-BF16 EPYC); without them bf16 is
emulated and was measured 6x slower than fp32, so it is refused.
"""
from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import torch

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU feature flags the kernel reports (empty where /proc/cpuinfo does not exist)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_native_bf16(flags: set[str] | None = None) -> bool:
    """Whether the CPU computes bf16 dot products in hardware and oneDNN can use them; ``flags``
    default to this CPU's, read once per process (trackers ask on every autocast call)."""
    if flags is None:
        return _this_cpu_has_native_bf16()
    return bool(flags & set(NATIVE_BF16_FLAGS)) and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


@functools.cache
def _this_cpu_has_native_bf16() -> bool:
    return cpu_has_native_bf16(cpu_flags())


def check_amp_supported(device: torch.device, what: str = "amp") -> None:
    """Raise a ValueError naming ``what`` when ``device`` is a CPU without native bf16."""
    if device.type != "cuda" and not cpu_has_native_bf16():
        raise ValueError(f"{what} on {device.type}: this CPU has no native bf16 ({' / '.join(NATIVE_BF16_FLAGS)}); "
                         "bf16 autocast would be emulated and slower than fp32")


def cuda_autocast_dtype() -> torch.dtype:
    """bf16 on GPUs that support it (no overflow: fp32's exponent range), fp16 on older ones."""
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def amp_dtype(device: torch.device, amp: bool, what: str = "--amp") -> torch.dtype | None:
    """The dtype :func:`autocast_context` computes in on ``device`` (:func:`cuda_autocast_dtype` on
    CUDA, bf16 on a CPU with native bf16), None when ``amp`` is off; a CPU without native bf16 is
    refused with a ValueError naming ``what`` rather than run slower than fp32."""
    if not amp:
        return None
    check_amp_supported(device, what)
    return cuda_autocast_dtype() if device.type == "cuda" else torch.bfloat16


def autocast_context(device: torch.device, amp: bool, what: str = "--amp") -> contextlib.AbstractContextManager:
    """Autocast in :func:`amp_dtype` on ``device``, nothing when ``amp`` is off (refusing a CPU
    without native bf16 the same way)."""
    dtype = amp_dtype(device, amp, what)
    return contextlib.nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)
