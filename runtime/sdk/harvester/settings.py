"""Reading a plugin's settings (its ``[plugins.NAME]`` table) through ``config``."""

from __future__ import annotations

import json

from .types import Err


def i2c_address(default: int) -> int:
    """config "i2c_address" as an integer: 56, or "0x38" as the seeds wrote it.

    Raises Err naming the value when it is not an I2C address 0x03..0x77.
    Needs a world that imports ``config``; call it from a method, not at
    import time (``harvester build`` runs with no capabilities).
    """
    from .imports import config  # the plugin's world provides it

    raw = config.get("i2c_address")
    if raw is None:
        return default
    try:
        value = json.loads(raw)
        address = int(value, 0) if isinstance(value, str) else value
    except ValueError:
        address = None
    if isinstance(address, bool) or not isinstance(address, int) or not 0x03 <= address <= 0x77:
        raise Err(f"config i2c_address = {raw}: expected an I2C address 0x03..0x77")
    return address
