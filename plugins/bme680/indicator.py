"""The air-quality LED and the buzzer alarm, after the seeds' IAQ table:

    IAQ       status       LED
    (burn-in) calibrating  purple, pulsing (two shades, alternating per poll)
    0-50      excellent    green
    51-100    good         green-ish (yellow-green)
    101-150   moderate     yellow
    151-200   poor         orange
    > 200     bad          red, and the buzzer beeps

Hysteresis: the LED goes up a band as soon as the IAQ passes the band's
upper limit, but only comes back down once the IAQ is HYSTERESIS below it,
so a reading that hovers at a limit does not make the LED flicker. The
buzzer sounds once when the LED turns red, and not again until it has left
red (IAQ <= 190) and comes back.
"""

from __future__ import annotations

from dataclasses import dataclass

from harvester.imports import buzzer_controller, led_controller

Rgb = tuple[int, int, int]


@dataclass(frozen=True)
class Band:
    name: str
    upper_iaq: float  # the band holds IAQ values up to and including this
    colour: Rgb


BANDS: tuple[Band, ...] = (
    Band("excellent", 50.0, (0, 255, 0)),
    Band("good", 100.0, (128, 255, 0)),
    Band("moderate", 150.0, (255, 255, 0)),
    Band("poor", 200.0, (255, 128, 0)),
    Band("bad", float("inf"), (255, 0, 0)),
)
ALARM_BAND = len(BANDS) - 1
HYSTERESIS = 10.0  # IAQ points; 1 % of gas resistance is ~4 points

CALIBRATING_SHADES: tuple[Rgb, Rgb] = ((160, 0, 255), (48, 0, 80))

# The seeds' "triple" buzzer pattern: 3 x 100 ms, 100 ms apart.
ALARM_BEEPS = 3
ALARM_BEEP_MS = 100
ALARM_GAP_MS = 100


def band_of(iaq: float) -> int:
    """The band an IAQ value falls in, without hysteresis."""
    return next(i for i, band in enumerate(BANDS) if iaq <= band.upper_iaq)


def next_band(current: int | None, iaq: float) -> int:
    """The band to show, given the one shown now (None: nothing yet)."""
    target = band_of(iaq)
    if current is None or target >= current:
        return target
    # Going down: only as far as IAQ + HYSTERESIS allows.
    return max(target, min(current, band_of(iaq + HYSTERESIS)))


class Indicator:
    def __init__(self, led: int, band: int | None = None) -> None:
        self.led = led
        self.band = band  # kept in the plugin's state: no second alarm after a reload
        self._pulse = 0

    def show_calibrating(self) -> None:
        self._pulse ^= 1
        self._set(CALIBRATING_SHADES[self._pulse])

    def show_iaq(self, iaq: float) -> None:
        previous = self.band
        self.band = next_band(previous, iaq)
        self._set(BANDS[self.band].colour)
        if self.band == ALARM_BAND and previous != ALARM_BAND:
            buzzer_controller.beep(ALARM_BEEPS, ALARM_BEEP_MS, ALARM_GAP_MS)

    def _set(self, colour: Rgb) -> None:
        led_controller.set_led(self.led, *colour)
        # Under the daemon this only marks our LED ready; it writes the strip
        # once per poll cycle for every plugin.
        led_controller.sync_leds()
