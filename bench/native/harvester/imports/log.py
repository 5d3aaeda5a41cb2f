"""WIT interface ``log``: lines are dropped, as bench_seed's log callback
drops the sandbox's (neither side pays for terminal output)."""

from __future__ import annotations

from .types import Level

MAX_MESSAGE = 4000  # the host keeps this much of a line


def write(level: Level, message: str) -> None:
    """log.write: func(level: level, message: string)"""
    if not isinstance(level, Level):
        raise TypeError(f"log.write: level: expected Level, got {type(level).__name__}")
    if not isinstance(message, str):
        raise TypeError(f"log.write: message: expected str, got {type(message).__name__}")
    _line = message.encode("utf-8")[:MAX_MESSAGE]  # the host copies the text out of the guest


__all__ = ["Level", "write"]
