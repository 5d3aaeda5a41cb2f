"""BME680 calibration parameters and the datasheet's floating-point formulas.

Everything here is pure arithmetic on numbers the chip gave us, so it can be
read next to the Bosch datasheet (BST-BME680-DS001, sections 3.3 to 3.4 and
the "memory map" table 13) and checked with a calculator.
"""

from __future__ import annotations

from dataclasses import dataclass

# The three register blocks that hold the calibration: (first register, length).
CALIBRATION_BLOCKS: tuple[tuple[int, int], ...] = ((0x8A, 24), (0xE1, 16), (0x00, 5))

# Gas range lookup tables of the datasheet (section 3.4.1, BME680 only):
# a correction factor and the resistance scale of each of the 16 ranges.
GAS_RANGE_FACTOR: tuple[float, ...] = (
    1.0, 1.0, 1.0, 1.0, 1.0, 0.99, 1.0, 0.992,
    1.0, 1.0, 0.998, 0.995, 1.0, 0.99, 1.0, 1.0,
)
GAS_RANGE_OHMS: tuple[float, ...] = (
    8000000.0, 4000000.0, 2000000.0, 1000000.0, 499500.4995, 248262.1648, 125000.0,
    63004.03226, 31281.28128, 15625.0, 7812.5, 3906.25, 1953.125, 976.5625, 488.28125,
    244.140625,
)


def _u16(regs: bytes, lsb: int) -> int:
    """An unsigned little-endian 16-bit value whose low byte is at `lsb`."""
    return regs[lsb] | (regs[lsb + 1] << 8)


def _s16(regs: bytes, lsb: int) -> int:
    value = _u16(regs, lsb)
    return value - 0x10000 if value & 0x8000 else value


def _s8(value: int) -> int:
    return value - 0x100 if value & 0x80 else value


@dataclass(frozen=True)
class Calibration:
    """The chip's trimming parameters, named as in the datasheet (par_t1...)."""

    t1: int
    t2: int
    t3: int
    p1: int
    p2: int
    p3: int
    p4: int
    p5: int
    p6: int
    p7: int
    p8: int
    p9: int
    p10: int
    h1: int
    h2: int
    h3: int
    h4: int
    h5: int
    h6: int
    h7: int
    gh1: int
    gh2: int
    gh3: int
    res_heat_range: int
    res_heat_val: int
    range_switching_error: int

    @classmethod
    def from_registers(cls, regs: bytes) -> Calibration:
        """Decodes a 256-byte image of the register map (only the three
        calibration blocks need to be filled in)."""
        return cls(
            t1=_u16(regs, 0xE9),
            t2=_s16(regs, 0x8A),
            t3=_s8(regs[0x8C]),
            p1=_u16(regs, 0x8E),
            p2=_s16(regs, 0x90),
            p3=_s8(regs[0x92]),
            p4=_s16(regs, 0x94),
            p5=_s16(regs, 0x96),
            p6=_s8(regs[0x99]),  # p6 and p7 sit the "wrong" way round
            p7=_s8(regs[0x98]),
            p8=_s16(regs, 0x9C),
            p9=_s16(regs, 0x9E),
            p10=regs[0xA0],
            # h1 and h2 are 12-bit values sharing register 0xE2 (one nibble each).
            h1=(regs[0xE3] << 4) | (regs[0xE2] & 0x0F),
            h2=(regs[0xE1] << 4) | (regs[0xE2] >> 4),
            h3=_s8(regs[0xE4]),
            h4=_s8(regs[0xE5]),
            h5=_s8(regs[0xE6]),
            h6=regs[0xE7],
            h7=_s8(regs[0xE8]),
            gh1=_s8(regs[0xED]),
            gh2=_s16(regs, 0xEB),
            gh3=_s8(regs[0xEE]),
            res_heat_range=(regs[0x02] >> 4) & 0x03,
            res_heat_val=_s8(regs[0x00]),
            # A signed 4-bit value in the high nibble of 0x04.
            range_switching_error=_s8(regs[0x04] & 0xF0) // 16,
        )


def temperature(cal: Calibration, adc: int) -> tuple[float, float]:
    """(degC, t_fine): t_fine carries the temperature into the pressure and
    humidity formulas."""
    var1 = (adc / 16384.0 - cal.t1 / 1024.0) * cal.t2
    delta = adc / 131072.0 - cal.t1 / 8192.0
    var2 = delta * delta * (cal.t3 * 16.0)
    t_fine = var1 + var2
    return t_fine / 5120.0, t_fine


def pressure(cal: Calibration, t_fine: float, adc: int) -> float:
    """Pressure in Pa."""
    var1 = t_fine / 2.0 - 64000.0
    var2 = var1 * var1 * (cal.p6 / 131072.0)
    var2 = var2 + var1 * cal.p5 * 2.0
    var2 = var2 / 4.0 + cal.p4 * 65536.0
    var1 = ((cal.p3 * var1 * var1) / 16384.0 + cal.p2 * var1) / 524288.0
    var1 = (1.0 + var1 / 32768.0) * cal.p1
    if var1 == 0.0:  # a blank calibration: avoid dividing by zero
        return 0.0
    press = 1048576.0 - adc
    press = ((press - var2 / 4096.0) * 6250.0) / var1
    var1 = (cal.p9 * press * press) / 2147483648.0
    var2 = press * (cal.p8 / 32768.0)
    var3 = (press / 256.0) ** 3 * (cal.p10 / 131072.0)
    return press + (var1 + var2 + var3 + cal.p7 * 128.0) / 16.0


def humidity(cal: Calibration, temp_c: float, adc: int) -> float:
    """Relative humidity in %, clamped to 0..100 as the datasheet does."""
    var1 = adc - (cal.h1 * 16.0 + (cal.h3 / 2.0) * temp_c)
    var2 = var1 * (
        (cal.h2 / 262144.0)
        * (1.0 + (cal.h4 / 16384.0) * temp_c + (cal.h5 / 1048576.0) * temp_c * temp_c)
    )
    var3 = cal.h6 / 16384.0
    var4 = cal.h7 / 2097152.0
    hum = var2 + (var3 + var4 * temp_c) * var2 * var2
    return min(100.0, max(0.0, hum))


def gas_resistance(cal: Calibration, adc: int, gas_range: int) -> float:
    """Gas sensor resistance in ohms from the 10-bit ADC and its range."""
    var1 = (1340.0 + 5.0 * cal.range_switching_error) * GAS_RANGE_FACTOR[gas_range]
    return var1 * GAS_RANGE_OHMS[gas_range] / (adc - 512.0 + var1)


def heater_resistance(cal: Calibration, target_c: float, ambient_c: float) -> int:
    """res_heat_x: the register value that heats the hot plate to target_c
    when the air around it is at ambient_c (datasheet 3.3.5)."""
    var1 = cal.gh1 / 16.0 + 49.0
    var2 = (cal.gh2 / 32768.0) * 0.0005 + 0.00235
    var3 = cal.gh3 / 1024.0
    var4 = var1 * (1.0 + var2 * target_c)
    var5 = var4 + var3 * ambient_c
    res_heat = 3.4 * (
        var5 * (4.0 / (4.0 + cal.res_heat_range)) * (1.0 / (1.0 + cal.res_heat_val * 0.002))
        - 25.0
    )
    return min(255, max(0, int(res_heat)))
