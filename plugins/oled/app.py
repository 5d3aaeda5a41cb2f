"""SSD1306 OLED status screen: room temperature, air quality, the hub's CPU
temperature and the system's name, redrawn from every poll cycle's readings.

The display is initialised on the first update, and again on the update
after any I2C error (it may have been unplugged and lost its settings);
between errors only the parts of the screen that changed are sent.

Config (``[plugins.oled]`` in the daemon's TOML): ``i2c_address`` (0x3C,
or 0x3D on modules with the address jumper moved), an integer or "0x3C".
"""

import json

from harvester.imports import config, i2c, log
from harvester.imports.log import Level
from harvester.types import Err

from screen import parse_readings, render, screen_lines
from ssd1306 import Ssd1306

DEFAULT_ADDRESS = 0x3C


def configured_address() -> int:
    """The i2c_address setting, accepting 60 as well as the seeds' "0x3C"."""
    raw = config.get("i2c_address")
    if raw is None:
        return DEFAULT_ADDRESS
    try:
        value = json.loads(raw)
        address = int(value, 0) if isinstance(value, str) else int(value)
        if not 0x03 <= address <= 0x77:
            raise ValueError("outside 0x03..0x77")
        return address
    except (ValueError, TypeError) as e:
        log.write(Level.WARN, f"i2c_address {raw}: {e}; using 0x{DEFAULT_ADDRESS:02X}")
        return DEFAULT_ADDRESS


class OledLogic:
    def __init__(self) -> None:
        # Imports cannot be called while the class is created (the build
        # check does that too), so the address is read on the first update.
        self.address = DEFAULT_ADDRESS
        self.display = Ssd1306(self._write)
        self.ready = False           # False: (re)initialise on the next update
        self.fault: str | None = None  # the last bus error, to log it once

    def update(self, sensor_data: str) -> None:
        try:
            lines = screen_lines(parse_readings(sensor_data))
        except ValueError as e:  # bad JSON: keep the frame, show no values
            log.write(Level.WARN, f"readings not understood: {e}")
            lines = screen_lines([])
        frame = render(lines)
        try:
            if not self.ready:
                self.address = configured_address()
                self.display.init()
                self.ready = True
            self.display.show(frame)
        except Err as e:
            self._bus_failed(str(e.value))
            return
        if self.fault is not None:
            log.write(Level.INFO, f"display at 0x{self.address:02X} is back")
            self.fault = None

    def _write(self, data: bytes) -> None:
        i2c.transfer_bytes(self.address, data, 0)

    def _bus_failed(self, message: str) -> None:
        """Logs the error (once while it persists) and re-initialises the
        display on the next update: an update must never raise, or the
        daemon would restart the plugin for a loose cable."""
        self.ready = False
        level = Level.DEBUG if message == self.fault else Level.ERROR
        log.write(level, f"display at 0x{self.address:02X}: {message}; retrying next update")
        self.fault = message
