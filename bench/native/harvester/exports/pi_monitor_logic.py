"""WIT interface ``pi-monitor-logic``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PiStats:
    """WIT record pi-stats (interface pi-monitor-logic)."""

    cpu_temp: float
    cpu_usage: float
    memory_used_mb: int
    memory_total_mb: int
    uptime_seconds: int


__all__ = ["PiStats"]
