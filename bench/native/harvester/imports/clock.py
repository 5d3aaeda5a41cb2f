"""WIT interface ``clock``: wall time and sleeping."""

from __future__ import annotations

import time

from .._board import board
from ._checks import U32_MAX, uint

SLEEP_MAX_MS = 60000  # the host caps one sleep at a minute


def now() -> int:
    """clock.now: func() -> u64 (milliseconds since the Unix epoch)"""
    return time.time_ns() // 1_000_000


def _sleep(seconds: float) -> None:
    b = board()
    if b.virtual_sleep:  # jump the board's clock: the chips see the time pass
        b.advance(seconds)
    else:
        time.sleep(seconds)


def sleep_ms(ms: int) -> None:
    """clock.sleep-ms: func(ms: u32)"""
    _sleep(min(uint("clock.sleep_ms: ms", ms, U32_MAX), SLEEP_MAX_MS) / 1e3)


def sleep_us(us: int) -> None:
    """clock.sleep-us: func(us: u32)"""
    _sleep(min(uint("clock.sleep_us: us", us, U32_MAX), SLEEP_MAX_MS * 1000) / 1e6)
