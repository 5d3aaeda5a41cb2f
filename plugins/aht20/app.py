"""AHT20 temperature and humidity over I2C (the driver: aht20_driver.py).

Written against the generic sensor world only: drop the built .wasm into
plugins/ and the host loads it, no host change needed. A failed transfer or
a corrupt result (CRC mismatch) is returned as the poll's error.

config "i2c_address": 0x38 (the AHT20's only address), as an integer or the
seeds' "0x38" -- there for boards behind an address translator.
"""

from __future__ import annotations

from harvester.imports.types import Field, Reading
from harvester.settings import i2c_address
from harvester.types import Err

import aht20_driver

SENSOR = "aht20"
DEFAULT_ADDRESS = 0x38
DECIMALS = 2  # the chip resolves 0.0002 °C / %RH; its accuracy is +-0.3 °C / +-2 %RH



class SensorLogic:
    def __init__(self) -> None:
        self.address: int | None = None  # read at the first poll (no host calls at build)

    def poll(self) -> list[Reading]:
        if self.address is None:
            self.address = i2c_address(DEFAULT_ADDRESS)
        try:
            temperature, humidity = aht20_driver.measure(self.address)
        except Err as e:
            # Return the error to the host: result<list<reading>, string>'s err.
            raise Err(f"{SENSOR} at 0x{self.address:02x}: {e.value}") from None
        return [Reading(sensor=SENSOR,
                        fields=[Field(name="temperature", value=round(temperature, DECIMALS), unit="°C"),
                                Field(name="humidity", value=round(humidity, DECIMALS), unit="%")],
                        extra=None)]
