"""BH1750 ambient light sensor over I2C, on the generic sensor world."""
from harvester.imports import clock, i2c
from harvester.imports.types import Field, Reading

ADDR = 0x23
ONE_TIME_HIGH_RES = b"\x20"


class SensorLogic:                       # export sensor-logic -> class SensorLogic
    def poll(self) -> list[Reading]:     # result<list<reading>, string>: return = ok
        i2c.transfer_bytes(ADDR, ONE_TIME_HIGH_RES, 0)
        clock.sleep_ms(180)                           # the sensor's measurement time
        raw = i2c.transfer_bytes(ADDR, b"", 2)        # an err result raises Err(msg)
        lux = int.from_bytes(raw, "big") / 1.2
        return [Reading(sensor="bh1750",
                        fields=[Field(name="lux", value=round(lux, 1), unit="lx")],
                        extra=None)]
