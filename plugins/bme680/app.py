"""BME680 seed plugin: temperature, humidity, pressure, gas resistance and an
indoor-air-quality estimate, with the air-quality LED and buzzer alarm.

* bme680_driver.py: the chip, over raw I2C (bme680_calibration.py: the math)
* iaq.py: the IAQ estimate. Bosch's BSEC IAQ is closed source; ours is an
  estimate (gas resistance against a learnt baseline, plus humidity).
* indicator.py: the LED colours, hysteresis and the alarm

Settings, from the daemon's [plugins.bme680] table:

    led = 2               # the LED showing the air quality
    i2c_address = 0x77    # or "0x77"; 0x76 when SDO is tied low

An I2C fault (no ACK, a timeout, an unplugged sensor) gives no reading for
that poll and a line in the log; the host keeps polling, and the chip is set
up again (chip id, soft reset, calibration) on the next poll that reaches it.
"""

from __future__ import annotations

import json
from typing import Any

from harvester.exports.bme680_logic import Bme680Reading, IaqAccuracy
from harvester.imports import config, log, state
from harvester.imports.types import Level
from harvester.types import Err

from bme680_driver import Bme680, Bme680Error, Measurement
from iaq import IaqEstimator
from indicator import BANDS, Indicator

SENSOR_ID = "bme680"
DEFAULT_ADDRESS = 0x77
DEFAULT_LED = 2
STATE_VERSION = 1


def config_int(key: str, default: int, lowest: int, highest: int) -> int:
    """An integer setting; a hex string such as "0x77" is accepted too."""
    raw = config.get(key)
    if raw is None:
        return default
    try:
        value = json.loads(raw)
        if isinstance(value, str):
            value = int(value, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
            raise ValueError(f"expected an integer in {lowest}..{highest}")
        return value
    except ValueError as e:
        log.write(Level.WARN, f"config {key} = {raw}: {e}; using {default}")
        return default


class Bme680Logic:
    def __init__(self) -> None:
        # Set up on the first poll: that is when the host's capabilities
        # (config, state) are ours to use.
        self._sensor: Bme680 | None = None
        self._estimator = IaqEstimator()
        self._indicator = Indicator(DEFAULT_LED)
        self._last_iaq = 0.0
        self._saved: bytes | None = None
        self._failing: str | None = None  # the error of the last poll, if any

    def poll(self) -> list[Bme680Reading]:
        sensor = self._sensor or self._start()
        try:
            m = sensor.read()
        except (Err, Bme680Error) as e:
            self._report_failure(sensor.address, str(e))
            return []
        if self._failing is not None:
            log.write(Level.INFO, f"sensor back after: {self._failing}")
            self._failing = None
        iaq, accuracy = self._score(m)
        self._save()
        return [
            Bme680Reading(
                sensor_id=SENSOR_ID,
                temperature=m.temperature_c,
                humidity=m.humidity_pct,
                pressure=m.pressure_hpa,
                gas_resistance=m.gas_ohm if m.gas_ohm is not None else 0.0,
                iaq=iaq,
                iaq_accuracy=accuracy,
            )
        ]

    # ---- set-up and state ----------------------------------------------------

    def _start(self) -> Bme680:
        self._sensor = Bme680(config_int("i2c_address", DEFAULT_ADDRESS, 0x03, 0x77))
        self._indicator.led = config_int("led", DEFAULT_LED, 0, 255)
        self._restore()
        return self._sensor

    def _restore(self) -> None:
        """The calibration from an earlier run, so a reload or a restart does
        not start the burn-in again. Anything unreadable starts afresh."""
        blob = state.get()
        if blob is None:
            return
        try:
            saved: Any = json.loads(blob.decode())
            if not isinstance(saved, dict) or saved.get("version") != STATE_VERSION:
                raise ValueError(f"not version {STATE_VERSION}")
            estimator = IaqEstimator.from_json(saved["iaq"])
            band = saved["band"]
            if band is not None and (not isinstance(band, int) or not 0 <= band < len(BANDS)):
                raise ValueError(f"band {band!r}")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            log.write(Level.WARN, f"saved state ignored ({e}); calibrating from scratch")
            return
        self._estimator = estimator
        self._indicator.band = band
        self._saved = blob

    def _save(self) -> None:
        blob = json.dumps(
            {"version": STATE_VERSION, "iaq": self._estimator.to_json(), "band": self._indicator.band},
            sort_keys=True,
        ).encode()
        if blob == self._saved:  # spare the SD card when nothing changed
            return
        try:
            state.set(blob)
            self._saved = blob
        except Err as e:
            log.write(Level.WARN, f"cannot save the IAQ calibration: {e}")

    # ---- one poll ------------------------------------------------------------

    def _score(self, m: Measurement) -> tuple[float, IaqAccuracy]:
        """The IAQ and its accuracy for this reading; updates the LED."""
        if m.gas_ohm is None:
            # The heater did not reach its temperature: no gas reading this
            # time, so the IAQ stays where it was.
            log.write(Level.WARN, "gas reading not valid (heater not stable); IAQ unchanged")
            accuracy = self._estimator.accuracy()
        else:
            self._last_iaq, accuracy = self._estimator.add(m.gas_ohm, m.humidity_pct)
        if accuracy == IaqAccuracy.CALIBRATING:
            self._indicator.show_calibrating()
        else:
            self._indicator.show_iaq(self._last_iaq)
        return self._last_iaq, accuracy

    def _report_failure(self, address: int, message: str) -> None:
        # The first failure of a run is an error; the same one again at every
        # poll (an unplugged sensor) would only flood the log.
        level = Level.DEBUG if message == self._failing else Level.ERROR
        log.write(level, f"no reading from the BME680 at 0x{address:02x}: {message}")
        self._failing = message
