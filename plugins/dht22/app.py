"""DHT22 room temperature and humidity, shown on one LED of the strip.

LED (config "led", default 1), first match wins:

    red     hot   on at >= 30 °C, off only below 28 °C; 3 beeps when it turns on
    blue    cold  on at <= 15 °C, off only above 17 °C
    orange  warm  on above 25 °C, off only below 23 °C
    green   otherwise

Each alarm has a 2 °C deadband (see harvester.alarms): between its two
thresholds it keeps its state, so 29.9 -> 30.0 -> 29.0 stays red and beeps
once; it is orange again at 27.9 and green at 22.9.

Humidity only logs: a warning when the room turns humid (>= 70 %, until
below 68 %) or dry (<= 25 %, until above 27 %), a note when it is back.

The alarms live on this instance between polls and in the state blob across
reloads and restarts, so a reload during a heat wave does not beep again.
A failed read (the DHT22 misses a fair share of them) returns no reading.
"""

from __future__ import annotations

import json

from harvester.exports.dht22_logic import Dht22Reading
from harvester.imports import buzzer_controller, config, gpio_provider, led_controller, log, state
from harvester.imports.types import Level
from harvester.types import Err

from harvester.alarms import Direction, Latch

SENSOR_ID = "dht22"  # the host makes it "<node>:dht22"
DEFAULT_PIN = 4
DEFAULT_LED = 1
MAX_PIN = 27  # the Pi's GPIO header
MAX_LED = 63

DEADBAND = 2.0
HIGH_TEMP = 30.0
WARM_TEMP = 25.0
LOW_TEMP = 15.0
HIGH_HUM = 70.0
LOW_HUM = 25.0

HOT_BEEPS = 3
BEEP_MS = 200
BEEP_GAP_MS = 100

Rgb = tuple[int, int, int]
RED: Rgb = (255, 0, 0)
BLUE: Rgb = (0, 0, 255)
ORANGE: Rgb = (255, 128, 0)
GREEN: Rgb = (0, 255, 0)


def temperature_alarms() -> list[Latch]:
    """In LED precedence order: the first active one gives the colour."""
    return [
        Latch("hot", Direction.ABOVE, HIGH_TEMP, HIGH_TEMP - DEADBAND),
        Latch("cold", Direction.BELOW, LOW_TEMP, LOW_TEMP + DEADBAND),
        Latch("warm", Direction.ABOVE, WARM_TEMP, WARM_TEMP - DEADBAND, inclusive=False),
    ]


def humidity_alarms() -> list[Latch]:
    return [
        Latch("humid", Direction.ABOVE, HIGH_HUM, HIGH_HUM - DEADBAND),
        Latch("dry", Direction.BELOW, LOW_HUM, LOW_HUM + DEADBAND),
    ]


COLOURS: dict[str, Rgb] = {"hot": RED, "cold": BLUE, "warm": ORANGE}
# "warm" is a colour, not a problem: its changes are only noted.
WARNING_ALARMS = {"hot", "cold", "humid", "dry"}


def int_setting(key: str, default: int, low: int, high: int) -> int:
    """An integer from the plugin's config table (JSON text), or default."""
    raw = config.get(key)
    if raw is None:
        return default
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        log.write(Level.WARN, f"config {key} = {raw}: expected an integer {low}..{high}, using {default}")
        return default
    return value


class Dht22Logic:
    def __init__(self) -> None:
        # No host calls here: the class is also instantiated by `harvester
        # build`'s check, where imports are refused. Settings come at the first poll.
        self.started = False
        self.pin = DEFAULT_PIN
        self.led = DEFAULT_LED
        self.temperature = temperature_alarms()
        self.humidity = humidity_alarms()
        self.failing = False  # the last read failed (log the first failure only)

    def start(self) -> None:
        self.pin = int_setting("gpio_pin", DEFAULT_PIN, 0, MAX_PIN)
        self.led = int_setting("led", DEFAULT_LED, 0, MAX_LED)
        self.restore()
        self.started = True

    def poll(self) -> list[Dht22Reading]:
        if not self.started:
            self.start()
        try:
            temperature, humidity = gpio_provider.read_dht22(self.pin)
        except Err as e:
            self.read_failed(str(e.value))
            return []
        if self.failing:
            self.failing = False
            log.write(Level.INFO, f"DHT22 on GPIO {self.pin} answers again")
        self.check(temperature, humidity)
        return [Dht22Reading(sensor_id=SENSOR_ID, temperature=temperature, humidity=humidity)]

    def read_failed(self, message: str) -> None:
        # The DHT22 fails now and then (timing, checksum): warn once, not every poll.
        level = Level.DEBUG if self.failing else Level.WARN
        log.write(level, f"DHT22 on GPIO {self.pin}: {message}")
        self.failing = True

    def check(self, temperature: float, humidity: float) -> None:
        changed = [*self.feed(self.temperature, temperature, "temperature", "°C"),
                   *self.feed(self.humidity, humidity, "humidity", "%")]
        if any(latch.name == "hot" and latch.active for latch in changed):
            buzzer_controller.beep(HOT_BEEPS, BEEP_MS, BEEP_GAP_MS)
        if changed:
            self.save()
        led_controller.set_led(self.led, *self.colour())
        led_controller.sync_leds()

    @staticmethod
    def feed(latches: list[Latch], value: float, quantity: str, unit: str) -> list[Latch]:
        """Updates latches with value, logs and returns those that flipped."""
        flipped = [latch for latch in latches if latch.update(value)]
        for latch in flipped:
            reading = f"{quantity} {value:.1f} {unit}"
            if latch.active:
                level = Level.WARN if latch.name in WARNING_ALARMS else Level.INFO
                log.write(level, f"{latch.name}: {reading} ({latch.describe(' ' + unit)})")
            else:
                log.write(Level.INFO, f"no longer {latch.name}: {reading}")
        return flipped

    def colour(self) -> Rgb:
        active = [latch.name for latch in self.temperature if latch.active]
        return COLOURS[active[0]] if active else GREEN

    # ---- alarms across reloads: the names of the active ones, as JSON ----

    def latches(self) -> list[Latch]:
        return [*self.temperature, *self.humidity]

    def save(self) -> None:
        active = [latch.name for latch in self.latches() if latch.active]
        try:
            state.set(json.dumps({"active": active}).encode())
        except Err as e:
            log.write(Level.WARN, f"cannot keep the alarm state: {e.value}")

    def restore(self) -> None:
        blob = state.get()
        if blob is None:
            return
        try:
            active = set(json.loads(blob)["active"])
        except (ValueError, KeyError, TypeError):
            log.write(Level.WARN, "ignoring an unreadable saved alarm state")
            return
        for latch in self.latches():
            latch.active = latch.name in active
