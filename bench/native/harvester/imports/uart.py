"""WIT interface ``uart``: the serial port."""

from __future__ import annotations

import ctypes

from .._board import board
from ..types import Err
from ._checks import U32_MAX, to_bytes, uint

MAX_XFER = 8192


def read(max_len: int) -> bytes:
    """uart.read: func(max-len: u32) -> result<list<u8>, string>"""
    n = min(uint("uart.read: max_len", max_len, U32_MAX), MAX_XFER)
    b = board()
    buf, got = ctypes.create_string_buffer(n or 1), ctypes.c_size_t()
    if b.ops.uart_read(b.handle, buf, n, ctypes.byref(got), b.err, len(b.err)) != 0:
        raise Err(b.error())
    return buf.raw[:got.value]


def write(data: bytes) -> int:
    """uart.write: func(data: list<u8>) -> result<u32, string>"""
    out = to_bytes("uart.write: data", data)
    if len(out) > MAX_XFER:
        raise Err(f"uart: write longer than {MAX_XFER} bytes")
    b = board()
    if b.ops.uart_write(b.handle, out, len(out), b.err, len(b.err)) != 0:
        raise Err(b.error())
    return len(out)


def set_baud(rate: int) -> None:
    """uart.set-baud: func(rate: u32) -> result<_, string>"""
    b = board()
    if b.ops.uart_set_baud(b.handle, uint("uart.set_baud: rate", rate, U32_MAX), b.err, len(b.err)) != 0:
        raise Err(b.error())
