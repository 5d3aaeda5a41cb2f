"""WIT interface ``spi``: full-duplex transfers."""

from __future__ import annotations

import ctypes

from .._board import board
from ..types import Err
from ._checks import to_bytes

MAX_XFER = 8192


def transfer(data: bytes) -> bytes:
    """spi.transfer: func(data: list<u8>) -> result<list<u8>, string>"""
    tx = to_bytes("spi.transfer: data", data)
    if len(tx) > MAX_XFER:
        raise Err(f"spi: transfer longer than {MAX_XFER} bytes")
    b = board()
    rx = ctypes.create_string_buffer(len(tx) or 1)
    if b.ops.spi_transfer(b.handle, tx, rx, len(tx), b.err, len(b.err)) != 0:
        raise Err(b.error())
    return rx.raw[:len(tx)]
