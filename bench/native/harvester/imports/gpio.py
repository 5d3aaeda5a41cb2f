"""WIT interface ``gpio``: generic pins."""

from __future__ import annotations

import ctypes
import enum

from .._board import board
from ..types import Err
from ._checks import U8_MAX, uint


class PinMode(enum.Enum):
    """WIT enum pin-mode (interface gpio)."""

    INPUT = 0
    OUTPUT = 1
    INPUT_PULL_UP = 2
    INPUT_PULL_DOWN = 3


def set_mode(pin: int, mode: PinMode) -> None:
    """gpio.set-mode: func(pin: u8, mode: pin-mode) -> result<_, string>"""
    if not isinstance(mode, PinMode):
        raise TypeError(f"gpio.set_mode: mode: expected PinMode, got {type(mode).__name__}")
    b = board()
    if b.ops.gpio_mode(b.handle, uint("gpio.set_mode: pin", pin, U8_MAX), mode.value, b.err, len(b.err)) != 0:
        raise Err(b.error())


def read(pin: int) -> bool:
    """gpio.read: func(pin: u8) -> result<bool, string>"""
    b = board()
    level = ctypes.c_int()
    if b.ops.gpio_read(b.handle, uint("gpio.read: pin", pin, U8_MAX), ctypes.byref(level), b.err, len(b.err)) != 0:
        raise Err(b.error())
    return level.value != 0


def write(pin: int, value: bool) -> None:
    """gpio.write: func(pin: u8, value: bool) -> result<_, string>"""
    b = board()
    if b.ops.gpio_write(b.handle, uint("gpio.write: pin", pin, U8_MAX), bool(value), b.err, len(b.err)) != 0:
        raise Err(b.error())
