"""WIT interface ``i2c``: one write, then a repeated-start read."""

from __future__ import annotations

import ctypes

from .._board import board
from ..types import Err
from ._checks import U8_MAX, U32_MAX, to_bytes, uint

MAX_XFER = 8192  # HV_HAL_MAX_XFER
SEVEN_BIT_MAX = 0x7F


def _transfer(addr: int, wr: bytes, read_len: int) -> bytes:
    """The host's i2c_common (src/plugin/caps.c): limits, then the board."""
    if len(wr) > MAX_XFER or read_len > MAX_XFER:
        raise Err(f"i2c: transfer longer than {MAX_XFER} bytes")
    if addr > SEVEN_BIT_MAX:
        raise Err(f"i2c: address 0x{addr:02x} is not a 7-bit address")
    b = board()
    rd = ctypes.create_string_buffer(read_len or 1)
    if b.ops.i2c_transfer(b.handle, addr, wr, len(wr), rd, read_len, b.err, len(b.err)) != 0:
        raise Err(b.error())
    return rd.raw[:read_len]


def transfer_bytes(addr: int, write_data: bytes, read_len: int) -> bytes:
    """i2c.transfer-bytes: func(addr: u8, write-data: list<u8>, read-len: u32) -> result<list<u8>, string>"""
    return _transfer(uint("i2c.transfer_bytes: addr", addr, U8_MAX),
                     to_bytes("i2c.transfer_bytes: write_data", write_data),
                     uint("i2c.transfer_bytes: read_len", read_len, U32_MAX))


def transfer(addr: int, write_data: str, read_len: int) -> str:
    """i2c.transfer: func(addr: u8, write-data: string, read-len: u32) -> result<string, string>
    (bytes as hex text, "D0" -> "61"; spaces and colons between digits allowed)."""
    if not isinstance(write_data, str):
        raise TypeError(f"i2c.transfer: write_data: expected str, got {type(write_data).__name__}")
    digits = write_data.replace(" ", "").replace(":", "")
    if len(digits) % 2:
        raise Err("i2c: write-data: odd number of hex digits")
    try:
        wr = bytes.fromhex(digits)
    except ValueError:
        bad = next(ch for ch in digits if ch not in "0123456789abcdefABCDEF")
        raise Err(f"i2c: write-data: '{bad}' is not a hex digit") from None
    rd = _transfer(uint("i2c.transfer: addr", addr, U8_MAX), wr, uint("i2c.transfer: read_len", read_len, U32_MAX))
    return rd.hex().upper()
