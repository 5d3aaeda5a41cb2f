"""The cheap part of the real SDK's lowering: integer parameters must be
ints in range (the sandbox raises OverflowError/TypeError naming them)."""

from __future__ import annotations

from typing import Any

U8_MAX = 0xFF
U32_MAX = 0xFFFF_FFFF


def uint(where: str, value: Any, limit: int) -> int:
    """value as an unsigned int <= limit, or the SDK's kind of error."""
    if not isinstance(value, int):
        raise TypeError(f"{where}: expected int, got {type(value).__name__}")
    if not 0 <= value <= limit:
        raise OverflowError(f"{where}: {value} out of range 0..{limit}")
    return value


def to_bytes(where: str, data: Any) -> bytes:
    """list<u8> parameters: bytes, bytearray, memoryview or a list of ints."""
    if type(data) is bytes:
        return data
    try:
        return bytes(data)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: expected list<u8> (bytes, bytearray, memoryview or list of ints): {e}") from None
