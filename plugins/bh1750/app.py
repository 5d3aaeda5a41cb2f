"""BH1750 ambient light sensor (Rohm BH1750FVI) over I2C, in lux.

Written against the generic sensor world only: drop the built .wasm into
plugins/ and the host loads it, no host change needed.

The chip has no registers: every byte written is an opcode. One poll powers
it on, asks for one high-resolution measurement (1 count = 1/1.2 lx, about
0.83 lx), waits for it and reads the 16-bit result. After a one-time
measurement the chip powers itself down, so it draws nothing between polls.

config "i2c_address": 0x23 (ADDR pin low, the default) or 0x5C (ADDR high),
as an integer or the seeds' "0x23".
"""

from __future__ import annotations

from harvester.imports import clock, i2c
from harvester.imports.types import Field, Reading
from harvester.settings import i2c_address
from harvester.types import Err

SENSOR = "bh1750"
DEFAULT_ADDRESS = 0x23

POWER_ON = b"\x01"
ONE_TIME_HIGH_RES = b"\x20"  # 1 lx resolution, then power down
# Typical 120 ms, at most 180 ms (datasheet, H-resolution mode).
MEASUREMENT_MS = 180
COUNTS_PER_LUX = 1.2  # at the default measurement time (MTreg = 69)



class SensorLogic:
    def __init__(self) -> None:
        self.address: int | None = None  # read at the first poll (no host calls at build)

    def poll(self) -> list[Reading]:
        if self.address is None:
            self.address = i2c_address(DEFAULT_ADDRESS)
        try:
            lux = self.measure(self.address)
        except Err as e:
            # Return the error to the host: result<list<reading>, string>'s err.
            raise Err(f"{SENSOR} at 0x{self.address:02x}: {e.value}") from None
        return [Reading(sensor=SENSOR,
                        fields=[Field(name="lux", value=round(lux, 2), unit="lx")],
                        extra=None)]

    @staticmethod
    def measure(address: int) -> float:
        i2c.transfer_bytes(address, POWER_ON, 0)
        i2c.transfer_bytes(address, ONE_TIME_HIGH_RES, 0)
        clock.sleep_ms(MEASUREMENT_MS)
        raw = i2c.transfer_bytes(address, b"", 2)  # big-endian counts
        return int.from_bytes(raw, "big") / COUNTS_PER_LUX
