"""What the OLED shows: four text lines picked from the readings JSON.

Pure Python with no SDK imports, so ``render_check.py`` can run the very
same code natively to preview the screen or produce a test's expected
picture.

The readings are the daemon's JSON array::

    [{"sensor_id": "pi4-spoke:dht22", "plugin": "dht22", "timestamp": 1700000000000,
      "data": {"sensor-id": "dht22", "temperature": 22.5, "humidity": 45.0}}, ...]

A reading's kind is told from its data (a pi-monitor record has
"cpu-temp", a BME680 one "iaq", a DHT22 one temperature and humidity),
so renamed plugins and readings pushed by other nodes work too.
"""

import json
import math
from typing import Any

from font import CELL_WIDTH
from framebuffer import WIDTH, FrameBuffer

Reading = dict[str, Any]

LINE_PAGES = (0, 2, 4, 6)  # one blank page between lines: easier to read
TITLE = "HARVESTER OS"
NO_VALUE = "--"
LABEL_WIDTH = 8  # characters, so the values line up in one column
DEGREES = "\u00b0C"

# The seeds' IAQ table (upper bound inclusive -> label); 0 means calibrating.
IAQ_LABELS = ((50, "Excellent"), (100, "Good"), (150, "Moderate"), (200, "Poor"))
IAQ_WORST = "Bad"


def parse_readings(text: str) -> list[Reading]:
    """The readings as a list of dicts; raises ValueError on bad JSON."""
    value = json.loads(text)
    if isinstance(value, dict):  # tolerate {"readings": [...]}
        value = value.get("readings", [])
    if not isinstance(value, list):
        raise ValueError("readings JSON is not an array")
    return [r for r in value if isinstance(r, dict) and isinstance(r.get("data"), dict)]


def number(value: Any) -> float | None:
    """value as a finite float, or None (peers may send anything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def kind(reading: Reading) -> str:
    data = reading["data"]
    if "cpu-temp" in data:
        return "pi-monitor"
    if "iaq" in data:
        return "bme680"
    if "temperature" in data and "humidity" in data:
        return "dht22"
    return "other"


def node_of(reading: Reading) -> str:
    """The node part of "node:sensor"."""
    return str(reading.get("sensor_id", "")).split(":", 1)[0]


def first(readings: list[Reading], wanted: str) -> Reading | None:
    return next((r for r in readings if kind(r) == wanted), None)


def room_temperature(readings: list[Reading]) -> float | None:
    """The DHT22's temperature, else the BME680's."""
    for wanted in ("dht22", "bme680"):
        reading = first(readings, wanted)
        if reading is not None and number(reading["data"].get("temperature")) is not None:
            return number(reading["data"]["temperature"])
    return None


def iaq_text(readings: list[Reading]) -> str:
    reading = first(readings, "bme680")
    if reading is None:
        return NO_VALUE
    iaq = number(reading["data"].get("iaq"))
    if reading["data"].get("iaq-accuracy") == "calibrating" or iaq == 0:
        return "CAL"
    if iaq is None:
        return NO_VALUE
    label = next((name for limit, name in IAQ_LABELS if iaq <= limit), IAQ_WORST)
    return f"{iaq:.0f} {label}"


def hub_cpu_temp(readings: list[Reading]) -> float | None:
    """The CPU temperature of the node whose id says "hub", else of the
    first node reporting one."""
    monitors = [r for r in readings if kind(r) == "pi-monitor"]
    hub = next((r for r in monitors if "hub" in node_of(r)), None)
    chosen = hub or (monitors[0] if monitors else None)
    return None if chosen is None else number(chosen["data"].get("cpu-temp"))


def degrees(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.1f}{DEGREES}"


def screen_lines(readings: list[Reading]) -> list[str]:
    """The four lines, top to bottom."""
    return [
        f"{'ROOM':<{LABEL_WIDTH}}{degrees(room_temperature(readings))}",
        f"{'IAQ':<{LABEL_WIDTH}}{iaq_text(readings)}",
        f"{'HUB CPU':<{LABEL_WIDTH}}{degrees(hub_cpu_temp(readings))}",
        TITLE,
    ]


def render(lines: list[str]) -> FrameBuffer:
    """Draws the lines into a fresh frame; the last (the title) centred."""
    fb = FrameBuffer()
    for index, (page, text) in enumerate(zip(LINE_PAGES, lines)):
        last = index == len(LINE_PAGES) - 1
        x = max(0, (WIDTH - len(text) * CELL_WIDTH) // 2) if last else 0
        fb.draw_text(x, page, text)
    return fb
