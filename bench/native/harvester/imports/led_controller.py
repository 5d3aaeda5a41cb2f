"""WIT interface ``led-controller``: set pixels, then sync once per cycle."""

from __future__ import annotations

import sys

from .._board import board
from ._checks import U8_MAX, uint


def set_led(index: int, r: int, g: int, b: int) -> None:
    """led-controller.set-led: func(index: u8, r: u8, g: u8, b: u8)"""
    hw = board()
    where = "led_controller.set_led"
    i = uint(f"{where}: index", index, U8_MAX)
    if hw.ops.led_set(hw.handle, i, uint(f"{where}: r", r, U8_MAX), uint(f"{where}: g", g, U8_MAX),
                      uint(f"{where}: b", b, U8_MAX)) != 0:
        print(f"set-led: no LED {i} (strip has {hw.nleds})", file=sys.stderr)  # the host warns too


def set_all(r: int, g: int, b: int) -> None:
    """led-controller.set-all: func(r: u8, g: u8, b: u8)"""
    hw = board()
    where = "led_controller.set_all"
    rgb = (uint(f"{where}: r", r, U8_MAX), uint(f"{where}: g", g, U8_MAX), uint(f"{where}: b", b, U8_MAX))
    for i in range(hw.nleds):
        hw.ops.led_set(hw.handle, i, *rgb)


def sync_leds() -> None:
    """led-controller.sync-leds: func()"""
    hw = board()
    hw.ops.led_sync(hw.handle)
