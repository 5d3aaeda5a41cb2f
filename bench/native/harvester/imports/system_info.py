"""WIT interface ``system-info``: memory, CPU usage, uptime."""

from __future__ import annotations

import ctypes

from .._board import board


def get_memory_usage() -> tuple[int, int]:
    """system-info.get-memory-usage: func() -> tuple<u32, u32> ((used, total) MB)"""
    b = board()
    used, total = ctypes.c_uint32(), ctypes.c_uint32()
    b.ops.memory_mb(b.handle, ctypes.byref(used), ctypes.byref(total))
    return (used.value, total.value)


def get_cpu_usage() -> float:
    """system-info.get-cpu-usage: func() -> f32"""
    b = board()
    return float(b.ops.cpu_usage(b.handle))


def get_uptime() -> int:
    """system-info.get-uptime: func() -> u64"""
    b = board()
    return int(b.ops.uptime_s(b.handle))
