"""Set-up of the stub SDK for one plugin: the board and the config table."""

from __future__ import annotations

from typing import Any

from . import _board
from .imports import config, state


def setup(lib_path: str, config_table: dict[str, Any], virtual_sleep: bool = False, nleds: int = 11) -> _board.Board:
    """Opens the simulated board, sets config.get's table, empties state."""
    config.table = dict(config_table)
    state.reset()
    return _board.open_board(lib_path, nleds, virtual_sleep)
