"""The readings JSON and the seeds' thresholds, shared by every card.

The daemon hands UI plugins a JSON array, one object per reading::

    {"sensor_id": "pi4-spoke:bme680", "plugin": "bme680", "timestamp": 1700000000000,
     "data": {"temperature": 23.1, "iaq": 42.0, "iaq-accuracy": "high", ...}}

Readings also arrive from other nodes over the network, so nothing here
trusts a value's type: numbers are checked, everything shown is escaped
by the caller.
"""

import json
import math
from typing import Any

Reading = dict[str, Any]

NO_VALUE = "\u2014"  # an em dash: no reading

# The seeds' IAQ table: (upper bound inclusive, state, label); 0 = calibrating.
IAQ_TABLE = ((50, "excellent", "Excellent"), (100, "good", "Good"),
             (150, "moderate", "Moderate"), (200, "poor", "Poor"))
IAQ_WORST = ("bad", "Bad")
IAQ_CALIBRATING = ("calibrating", "Calibrating")

# DHT22 plugin: >= 30 red, <= 15 blue, > 25 orange; humidity 25..70 % is fine.
TEMP_HOT, TEMP_WARM, TEMP_COLD = 30.0, 25.0, 15.0
HUM_HIGH, HUM_LOW = 70.0, 25.0
# pi-monitor plugin: > 75 °C red, > 60 °C orange.
CPU_HOT, CPU_WARM = 75.0, 60.0


def parse(text: str) -> tuple[list[Reading], str | None]:
    """The readings, and a message for the page when they are unusable."""
    try:
        value = json.loads(text)
    except ValueError as e:
        return [], f"The readings are not valid JSON ({e})."
    if isinstance(value, dict):  # tolerate {"readings": [...]}
        value = value.get("readings")
    if not isinstance(value, list):
        return [], "The readings are not a JSON array."
    readings = [r for r in value if isinstance(r, dict) and isinstance(r.get("data"), dict)]
    return readings, None if readings else "No readings yet \u2014 waiting for the first poll."


def number(value: Any) -> float | None:
    """value as a finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def kind(reading: Reading) -> str:
    """What a reading is, told from its data (plugin names vary by node)."""
    data = reading["data"]
    if reading.get("plugin") == "cluster" and isinstance(data.get("role"), str):
        return "network"  # the node's own: role, latencies, push and queue
    if "cpu-temp" in data:
        return "pi-monitor"
    if "iaq" in data:
        return "bme680"
    if "temperature" in data and "humidity" in data:
        return "dht22"
    if isinstance(data.get("fields"), list):
        return "generic"
    return "other"


def sensor_id(reading: Reading) -> str:
    return str(reading.get("sensor_id", ""))


def node_of(reading: Reading) -> str:
    """The node part of "node:sensor"."""
    return sensor_id(reading).split(":", 1)[0]


def node_role(node: str, network: Reading | None = None) -> str:
    """hub, node (standalone), zero (a Pi Zero) or spoke: the role the node
    says in its network reading, else a guess from its id."""
    said = network["data"].get("role") if network else None
    lowered = node.lower()
    if said == "hub" or (said is None and "hub" in lowered):
        return "hub"
    if said == "standalone":
        return "node"
    return "zero" if "zero" in lowered else "spoke"


def timestamp(reading: Reading) -> float:
    return number(reading.get("timestamp")) or 0.0


# ---- states: a CSS class suffix per threshold band --------------------------

def iaq_state(iaq: Any, accuracy: Any) -> tuple[str, str]:
    """(state, label) for an IAQ score, as the seeds' table says."""
    value = number(iaq)
    if accuracy == "calibrating" or value == 0:
        return IAQ_CALIBRATING
    if value is None:
        return "none", NO_VALUE
    return next(((state, label) for limit, state, label in IAQ_TABLE if value <= limit),
                IAQ_WORST)


def temp_state(celsius: Any) -> str:
    t = number(celsius)
    if t is None:
        return "none"
    if t >= TEMP_HOT:
        return "hot"
    if t <= TEMP_COLD:
        return "cold"
    return "warm" if t > TEMP_WARM else "ok"


def hum_state(percent: Any) -> str:
    h = number(percent)
    if h is None:
        return "none"
    return "high" if h > HUM_HIGH else "low" if h < HUM_LOW else "ok"


def cpu_state(celsius: Any) -> str:
    t = number(celsius)
    if t is None:
        return "none"
    return "hot" if t > CPU_HOT else "warm" if t > CPU_WARM else "ok"


# ---- formatting ---------------------------------------------------------------

def fixed(value: Any, decimals: int, scale: float = 1.0) -> str:
    v = number(value)
    return NO_VALUE if v is None else f"{v * scale:.{decimals}f}"


def plain(value: Any) -> str:
    """A generic field's value: numbers trimmed, anything else as text."""
    v = number(value)
    if v is not None:
        return f"{v:.6g}"
    return NO_VALUE if value is None else str(value)


def uptime(seconds: Any) -> str:
    s = number(seconds)
    if s is None:
        return NO_VALUE
    minutes = int(s) // 60
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    return f"{days}d {hours}h {mins}m" if days else f"{hours}h {mins}m"


def age(ms: float) -> str:
    """How long ago, roughly ("4 s ago")."""
    s = max(0, int(ms / 1000))
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    return f"{s // 3600} h ago" if s < 86400 else f"{s // 86400} d ago"
