"""WIT interface ``state``: a blob kept in memory (the sandbox bench keeps
it in memory too: no state_dir)."""

from __future__ import annotations

from typing import Optional

from ..types import Err
from ._checks import to_bytes

STATE_MAX = 64 * 1024

_blob: Optional[bytes] = None


def reset() -> None:
    global _blob
    _blob = None


def get() -> Optional[bytes]:
    """state.get: func() -> option<list<u8>>"""
    return _blob


def set(data: bytes) -> None:  # noqa: A001 - the WIT name
    """state.set: func(data: list<u8>) -> result<_, string>"""
    global _blob
    blob = to_bytes("state.set: data", data)
    if len(blob) > STATE_MAX:
        raise Err(f"state: {len(blob)} bytes is over the {STATE_MAX}-byte limit")
    _blob = bytes(blob)
