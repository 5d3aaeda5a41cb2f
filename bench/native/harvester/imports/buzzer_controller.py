"""WIT interface ``buzzer-controller``: the relay, with the host's limits."""

from __future__ import annotations

from .._board import board
from ._checks import U8_MAX, U32_MAX, uint

MAX_MS = 5000
MAX_BEEPS = 20


def buzz(duration_ms: int) -> None:
    """buzzer-controller.buzz: func(duration-ms: u32)"""
    b = board()
    b.ops.buzz(b.handle, 1, min(uint("buzzer_controller.buzz: duration_ms", duration_ms, U32_MAX), MAX_MS), 0)


def beep(count: int, duration_ms: int, interval_ms: int) -> None:
    """buzzer-controller.beep: func(count: u8, duration-ms: u32, interval-ms: u32)"""
    where = "buzzer_controller.beep"
    b = board()
    b.ops.buzz(b.handle, min(uint(f"{where}: count", count, U8_MAX), MAX_BEEPS),
               min(uint(f"{where}: duration_ms", duration_ms, U32_MAX), MAX_MS),
               min(uint(f"{where}: interval_ms", interval_ms, U32_MAX), MAX_MS))
