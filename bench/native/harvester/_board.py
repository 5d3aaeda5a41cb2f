"""The simulated board, reached through ctypes.

``libhv_native.so`` is the host's own C sources built as a shared library
(bench/CMakeLists.txt), so a plugin run by native python3.11 talks to the
very chips, LEDs and buzzer a sandboxed plugin talks to: ``hv_hal_sim_new``
opens the board and the function pointers of its ``hv_hal_ops_t`` table
(include/hv_hal.h) are called directly, the way src/plugin/caps.c does.
"""

from __future__ import annotations

import ctypes
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int,
                    c_size_t, c_uint, c_uint8, c_uint32, c_uint64, c_void_p)
from typing import Optional

#: one-line reasons from the board (caps.c's ERRBUF)
ERR_LEN = 256

# Bytes are passed as c_char_p: ctypes hands a bytes object's buffer over
# without a copy, and a create_string_buffer() array works for outputs.
_Hal = c_void_p
_Bytes = c_char_p


class HalOps(Structure):
    """hv_hal_ops_t, field for field and in the same order."""

    _fields_ = [
        ("i2c_transfer", CFUNCTYPE(c_int, _Hal, c_uint8, _Bytes, c_size_t, _Bytes, c_size_t, c_char_p, c_size_t)),
        ("spi_transfer", CFUNCTYPE(c_int, _Hal, _Bytes, _Bytes, c_size_t, c_char_p, c_size_t)),
        ("uart_read", CFUNCTYPE(c_int, _Hal, _Bytes, c_size_t, POINTER(c_size_t), c_char_p, c_size_t)),
        ("uart_write", CFUNCTYPE(c_int, _Hal, _Bytes, c_size_t, c_char_p, c_size_t)),
        ("uart_set_baud", CFUNCTYPE(c_int, _Hal, c_uint32, c_char_p, c_size_t)),
        ("gpio_mode", CFUNCTYPE(c_int, _Hal, c_uint, c_int, c_char_p, c_size_t)),
        ("gpio_read", CFUNCTYPE(c_int, _Hal, c_uint, POINTER(c_int), c_char_p, c_size_t)),
        ("gpio_write", CFUNCTYPE(c_int, _Hal, c_uint, c_int, c_char_p, c_size_t)),
        ("dht22_read", CFUNCTYPE(c_int, _Hal, c_uint, POINTER(c_float), POINTER(c_float), c_char_p, c_size_t)),
        ("led_set", CFUNCTYPE(c_int, _Hal, c_uint, c_uint8, c_uint8, c_uint8)),
        ("led_sync", CFUNCTYPE(c_int, _Hal)),
        ("buzz", CFUNCTYPE(c_int, _Hal, c_uint, c_uint, c_uint)),
        ("cpu_temp", CFUNCTYPE(c_float, _Hal)),
        ("cpu_usage", CFUNCTYPE(c_float, _Hal)),
        ("memory_mb", CFUNCTYPE(None, _Hal, POINTER(c_uint32), POINTER(c_uint32))),
        ("uptime_s", CFUNCTYPE(c_uint64, _Hal)),
    ]


class Hal(Structure):
    """struct hv_hal: the ops table and the strip's length."""

    _fields_ = [("ops", POINTER(HalOps)), ("nleds", c_uint)]


class Board:
    """One simulated board: the handle, its ops and a reusable error buffer."""

    def __init__(self, lib_path: str, nleds: int, virtual_sleep: bool) -> None:
        self.lib = ctypes.CDLL(lib_path)
        self.lib.hv_hal_sim_new.restype = c_void_p
        self.lib.hv_hal_sim_new.argtypes = [c_uint]
        self.lib.hv_hal_sim_advance.argtypes = [c_void_p, c_double]
        self.lib.hv_hal_sim_free.argtypes = [c_void_p]
        self.lib.hv_log_configure.argtypes = [c_int, c_size_t]
        self.lib.hv_log_configure(3, 0)  # HV_LOG_WARN: the buzzer's info lines stay quiet, as in bench_seed
        handle: Optional[int] = self.lib.hv_hal_sim_new(nleds)
        if not handle:
            raise MemoryError("hv_hal_sim_new failed")
        self.handle = handle
        hal = Hal.from_address(handle)
        self.nleds = int(hal.nleds)
        self.ops = hal.ops.contents
        self.err = ctypes.create_string_buffer(ERR_LEN)
        #: clock.sleep_ms advances the board's clock instead of sleeping
        self.virtual_sleep = virtual_sleep

    def error(self) -> str:
        return self.err.value.decode("utf-8", "replace")

    def advance(self, seconds: float) -> None:
        self.lib.hv_hal_sim_advance(self.handle, seconds)

    def close(self) -> None:
        if self.handle:
            self.lib.hv_hal_sim_free(self.handle)
            self.handle = 0


_board: Optional[Board] = None


def open_board(lib_path: str, nleds: int = 11, virtual_sleep: bool = False) -> Board:
    """Opens the default simulated board every import module then uses."""
    global _board
    _board = Board(lib_path, nleds, virtual_sleep)
    return _board


def board() -> Board:
    if _board is None:
        raise OSError("no hardware backend")  # what the host says without one
    return _board
