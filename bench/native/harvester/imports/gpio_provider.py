"""WIT interface ``gpio-provider``: the seeds' DHT22, timestamp and CPU temperature."""

from __future__ import annotations

import ctypes
import time

from .._board import board
from ..types import Err
from ._checks import U8_MAX, uint


def read_dht22(pin: int) -> tuple[float, float]:
    """gpio-provider.read-dht22: func(pin: u8) -> result<tuple<f32, f32>, string>"""
    b = board()
    t, h = ctypes.c_float(), ctypes.c_float()
    if b.ops.dht22_read(b.handle, uint("gpio_provider.read_dht22: pin", pin, U8_MAX),
                        ctypes.byref(t), ctypes.byref(h), b.err, len(b.err)) != 0:
        raise Err(b.error())
    return (t.value, h.value)


def get_timestamp_ms() -> int:
    """gpio-provider.get-timestamp-ms: func() -> u64"""
    return time.time_ns() // 1_000_000


def get_cpu_temp() -> float:
    """gpio-provider.get-cpu-temp: func() -> f32"""
    b = board()
    return float(b.ops.cpu_temp(b.handle))
