"""Node health: CPU temperature and usage, memory and uptime, on one LED.

One plugin for every board of the cluster; config "role" says which:

    role     LED   buzzer
    pi4      3     yes     (the default)
    revpi    0     yes     (the hub)
    pizero   -     -       (no LED, no buzzer: the Zero stays quiet and light)

config "led" moves the LED of pi4 / revpi to another index; a pizero has none.

LED by CPU temperature, first match wins:

    red     hot   on above 75 °C, off only below 72 °C; 2 beeps when it turns on
    orange  warm  on above 60 °C, off only below 57 °C
    green   otherwise

The 3 °C deadband (harvester.alarms) keeps a SoC hovering at 75-76 °C from
beeping at every poll: it beeps once per alarm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from harvester.exports.pi_monitor_logic import PiStats
from harvester.imports import buzzer_controller, config, gpio_provider, led_controller, log, system_info
from harvester.imports.types import Level

from harvester.alarms import Direction, Latch

MAX_LED = 63

DEADBAND = 3.0
HOT_CPU = 75.0
WARM_CPU = 60.0

HOT_BEEPS = 2
BEEP_MS = 200
BEEP_GAP_MS = 100

Rgb = tuple[int, int, int]
RED: Rgb = (255, 0, 0)
ORANGE: Rgb = (255, 128, 0)
GREEN: Rgb = (0, 255, 0)


@dataclass(frozen=True)
class Role:
    led: Optional[int]  # None: this board shows nothing
    buzzer: bool


ROLES: dict[str, Role] = {
    "pi4": Role(led=3, buzzer=True),
    "revpi": Role(led=0, buzzer=True),
    "pizero": Role(led=None, buzzer=False),
}
DEFAULT_ROLE = "pi4"


def cpu_alarms() -> list[Latch]:
    """In LED precedence order: the first active one gives the colour."""
    return [
        Latch("hot", Direction.ABOVE, HOT_CPU, HOT_CPU - DEADBAND, inclusive=False),
        Latch("warm", Direction.ABOVE, WARM_CPU, WARM_CPU - DEADBAND, inclusive=False),
    ]


COLOURS: dict[str, Rgb] = {"hot": RED, "warm": ORANGE}


def setting(key: str) -> object:
    """A value of the plugin's config table (JSON text), or None."""
    raw = config.get(key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def role_setting() -> tuple[str, Role]:
    name = setting("role")
    if name is None:
        return DEFAULT_ROLE, ROLES[DEFAULT_ROLE]
    if not isinstance(name, str) or name not in ROLES:
        log.write(Level.WARN, f"config role = {name!r}: expected one of {', '.join(ROLES)}, "
                              f"using {DEFAULT_ROLE}")
        return DEFAULT_ROLE, ROLES[DEFAULT_ROLE]
    return name, ROLES[name]


def led_setting(role_name: str, role: Role) -> Optional[int]:
    led = setting("led")
    if led is None:
        return role.led
    if role.led is None:
        log.write(Level.INFO, f"config led = {led}: ignored, a {role_name} has no status LED")
        return None
    if isinstance(led, bool) or not isinstance(led, int) or not 0 <= led <= MAX_LED:
        log.write(Level.WARN, f"config led = {led!r}: expected an integer 0..{MAX_LED}, using {role.led}")
        return role.led
    return led


class PiMonitorLogic:
    def __init__(self) -> None:
        # No host calls here: the class is also instantiated by `harvester
        # build`'s check, where imports are refused. Settings come at the first poll.
        self.started = False
        self.role_name = DEFAULT_ROLE
        self.led: Optional[int] = None
        self.buzzer = False
        self.alarms = cpu_alarms()

    def start(self) -> None:
        self.role_name, role = role_setting()
        self.led = led_setting(self.role_name, role)
        self.buzzer = role.buzzer
        self.started = True

    def poll(self) -> PiStats:
        if not self.started:
            self.start()
        cpu_temp = gpio_provider.get_cpu_temp()
        used_mb, total_mb = system_info.get_memory_usage()
        stats = PiStats(cpu_temp=cpu_temp, cpu_usage=system_info.get_cpu_usage(),
                        memory_used_mb=used_mb, memory_total_mb=total_mb,
                        uptime_seconds=system_info.get_uptime())
        self.check(cpu_temp)
        log.write(Level.DEBUG, f"{self.role_name}: {cpu_temp:.1f} °C | RAM {used_mb}/{total_mb} MB")
        return stats

    def check(self, cpu_temp: float) -> None:
        for latch in self.alarms:
            if not latch.update(cpu_temp):
                continue
            if not latch.active:
                log.write(Level.INFO, f"CPU no longer {latch.name}: {cpu_temp:.1f} °C")
                continue
            level = Level.WARN if latch.name == "hot" else Level.INFO
            log.write(level, f"CPU {latch.name}: {cpu_temp:.1f} °C ({latch.describe(' °C')})")
            if latch.name == "hot" and self.buzzer:
                buzzer_controller.beep(HOT_BEEPS, BEEP_MS, BEEP_GAP_MS)
        if self.led is not None:
            led_controller.set_led(self.led, *self.colour())
            led_controller.sync_leds()

    def colour(self) -> Rgb:
        active = [latch.name for latch in self.alarms if latch.active]
        return COLOURS[active[0]] if active else GREEN
