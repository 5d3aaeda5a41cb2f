"""AHT20 temperature and humidity over I2C (the driver: aht20_driver.py).

Written against the generic sensor world only: drop the built .wasm into
plugins/ and the host loads it, no host change needed. A failed transfer or
a corrupt result (CRC mismatch) is returned as the poll's error.

config "i2c_address": 0x38 (the AHT20's only address), as an integer or the
seeds' "0x38" -- there for boards behind an address translator.
"""

from __future__ import annotations

import json

from harvester.imports import config
from harvester.imports.types import Field, Reading
from harvester.types import Err

import aht20_driver

SENSOR = "aht20"
DEFAULT_ADDRESS = 0x38
DECIMALS = 2  # the chip resolves 0.0002 °C / %RH; its accuracy is +-0.3 °C / +-2 %RH


def address_setting(default: int) -> int:
    """config "i2c_address" as an integer (56, or "0x38" as the seeds wrote it)."""
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


class SensorLogic:
    def __init__(self) -> None:
        self.address: int | None = None  # read at the first poll (no host calls at build)

    def poll(self) -> list[Reading]:
        if self.address is None:
            self.address = address_setting(DEFAULT_ADDRESS)
        try:
            temperature, humidity = aht20_driver.measure(self.address)
        except Err as e:
            # Return the error to the host: result<list<reading>, string>'s err.
            raise Err(f"{SENSOR} at 0x{self.address:02x}: {e.value}") from None
        return [Reading(sensor=SENSOR,
                        fields=[Field(name="temperature", value=round(temperature, DECIMALS), unit="°C"),
                                Field(name="humidity", value=round(humidity, DECIMALS), unit="%")],
                        extra=None)]
