"""A pure-Python BME680 driver over the host's raw I2C.

The host knows nothing about the chip: it passes bytes to the bus
(`i2c.transfer_bytes`) and we do the rest, as the Bosch datasheet
(BST-BME680-DS001) describes. One `read()` is one forced-mode measurement:
temperature, pressure, humidity and the gas resistance of the heated plate.

Writes are (register, value) pairs, several per transfer; a read sends the
first register and the chip auto-increments through the following ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from harvester.imports import clock, i2c

import bme680_calibration as calc
from bme680_calibration import Calibration

CHIP_ID = 0x61
REG_CHIP_ID = 0xD0
REG_RESET = 0xE0
SOFT_RESET = 0xB6
RESET_TIME_MS = 10  # datasheet: 2 ms start-up after a soft reset; be generous

REG_MEAS_STATUS = 0x1D  # first of the 15 data registers 0x1D..0x2B
DATA_LEN = 15
REG_RES_HEAT_0 = 0x5A
REG_GAS_WAIT_0 = 0x64
REG_CTRL_GAS_1 = 0x71
REG_CTRL_HUM = 0x72
REG_CTRL_MEAS = 0x74
REG_CONFIG = 0x75

NEW_DATA = 0x80  # meas_status_0
GAS_VALID = 0x20  # gas_r_lsb
HEAT_STAB = 0x10  # gas_r_lsb
RUN_GAS = 0x10  # ctrl_gas_1 (BME680; the BME688 moved it to bit 5)
FORCED_MODE = 0x01

# Oversampling as register codes (1 = x1, 2 = x2, 3 = x4, 4 = x8, 5 = x16):
# humidity x2, temperature x8, pressure x4 like Pimoroni's library. The IIR
# filter stays off: between polls seconds apart it would only add lag.
OSRS_H = 2
OSRS_T = 4
OSRS_P = 3
FILTER_OFF = 0x00
OVERSAMPLING_CYCLES = (0, 1, 2, 4, 8, 16)

HEATER_TARGET_C = 320.0
HEATER_TIME_MS = 150
DEFAULT_AMBIENT_C = 25.0  # until the first measurement tells us better

# How long to keep asking for new_data once the measurement should be over.
STATUS_TRIES = 10
STATUS_RETRY_MS = 5


class Bme680Error(Exception):
    """The chip answered, but not as a BME680 should."""


@dataclass(frozen=True)
class Measurement:
    temperature_c: float
    pressure_hpa: float
    humidity_pct: float
    gas_ohm: float | None  # None when the heater was not stable


def gas_wait_code(ms: int) -> int:
    """gas_wait_x: 6 bits of time and 2 bits of multiplier (x1, x4, x16, x64)."""
    factor = 0
    while ms > 0x3F and factor < 3:
        ms //= 4
        factor += 1
    return (factor << 6) | min(ms, 0x3F)


def gas_wait_ms(code: int) -> int:
    return (code & 0x3F) * 4 ** (code >> 6)


def measurement_ms(heater_ms: int) -> int:
    """How long a forced TPHG cycle takes (as the Bosch API computes it): 1963 us
    per oversampling cycle, switching and gas ADC time, wake-up, the heater."""
    cycles = sum(OVERSAMPLING_CYCLES[o] for o in (OSRS_T, OSRS_P, OSRS_H))
    micros = cycles * 1963 + 477 * 4 + 477 * 5
    return (micros + 999) // 1000 + 1 + heater_ms


class Bme680:
    """One chip at one address. Any I2C error (a `harvester.types.Err`) or
    `Bme680Error` leaves it uninitialised, so the next `read()` starts over
    with the chip id, a soft reset and the calibration: after an unplug the
    chip is back in its power-on state and must be set up again."""

    def __init__(self, address: int) -> None:
        self.address = address
        self._cal: Calibration | None = None
        self._ambient_c = DEFAULT_AMBIENT_C
        self._gas_wait = gas_wait_code(HEATER_TIME_MS)

    def read(self) -> Measurement:
        try:
            if self._cal is None:
                self._cal = self._initialise()
            return self._measure(self._cal)
        except Exception:
            self._cal = None
            raise

    # ---- bus helpers ---------------------------------------------------------

    def _read(self, register: int, length: int) -> bytes:
        return i2c.transfer_bytes(self.address, bytes([register]), length)

    def _write(self, *pairs: tuple[int, int]) -> None:
        data = bytes(byte for pair in pairs for byte in pair)
        i2c.transfer_bytes(self.address, data, 0)

    # ---- set-up --------------------------------------------------------------

    def _initialise(self) -> Calibration:
        chip_id = self._read(REG_CHIP_ID, 1)[0]
        if chip_id != CHIP_ID:
            raise Bme680Error(
                f"no BME680 at 0x{self.address:02x}: chip id 0x{chip_id:02x}, expected 0x{CHIP_ID:02x}"
            )
        self._write((REG_RESET, SOFT_RESET))
        clock.sleep_ms(RESET_TIME_MS)
        cal = self._read_calibration()
        self._write(
            (REG_CTRL_HUM, OSRS_H),
            (REG_CONFIG, FILTER_OFF),
            (REG_GAS_WAIT_0, self._gas_wait),
            (REG_CTRL_GAS_1, RUN_GAS | 0),  # run the gas measurement with heater set-point 0
        )
        return cal

    def _read_calibration(self) -> Calibration:
        regs = bytearray(256)  # an image of the register map
        for first, length in calc.CALIBRATION_BLOCKS:
            regs[first:first + length] = self._read(first, length)
        return Calibration.from_registers(bytes(regs))

    # ---- one measurement -----------------------------------------------------

    def _measure(self, cal: Calibration) -> Measurement:
        # The heater set-point depends on the air temperature, so it is
        # recomputed from the last reading; then start a forced measurement
        # (ctrl_meas also latches ctrl_hum).
        res_heat = calc.heater_resistance(cal, HEATER_TARGET_C, self._ambient_c)
        ctrl_meas = (OSRS_T << 5) | (OSRS_P << 2) | FORCED_MODE
        self._write((REG_RES_HEAT_0, res_heat), (REG_CTRL_MEAS, ctrl_meas))
        clock.sleep_ms(measurement_ms(gas_wait_ms(self._gas_wait)))
        data = self._wait_for_data()
        m = self._compensate(cal, data)
        self._ambient_c = m.temperature_c
        return m

    def _wait_for_data(self) -> bytes:
        for _ in range(STATUS_TRIES):
            data = self._read(REG_MEAS_STATUS, DATA_LEN)
            if data[0] & NEW_DATA:
                return data
            clock.sleep_ms(STATUS_RETRY_MS)
        raise Bme680Error("measurement did not complete (no new_data)")

    @staticmethod
    def _compensate(cal: Calibration, data: bytes) -> Measurement:
        # Offsets into data, which starts at register 0x1D.
        press_adc = (data[2] << 12) | (data[3] << 4) | (data[4] >> 4)
        temp_adc = (data[5] << 12) | (data[6] << 4) | (data[7] >> 4)
        hum_adc = (data[8] << 8) | data[9]
        gas_adc = (data[13] << 2) | (data[14] >> 6)
        gas_range = data[14] & 0x0F
        gas_ok = (data[14] & (GAS_VALID | HEAT_STAB)) == (GAS_VALID | HEAT_STAB)

        temp_c, t_fine = calc.temperature(cal, temp_adc)
        return Measurement(
            temperature_c=temp_c,
            pressure_hpa=calc.pressure(cal, t_fine, press_adc) / 100.0,
            humidity_pct=calc.humidity(cal, temp_c, hum_adc),
            gas_ohm=calc.gas_resistance(cal, gas_adc, gas_range) if gas_ok else None,
        )
