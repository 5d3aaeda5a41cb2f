"""Alarms with a deadband (hysteresis), so they do not flicker at a boundary.

A sensor hovering around a threshold (29.9, 30.1, 29.9 ...) would turn an
alarm on and off at every poll, and beep every time. A latch instead turns
on at one threshold and off only at another, further back:

    hot = Latch("hot", Direction.ABOVE, enter=30.0, leave=28.0)

    on  when value >= 30.0   (or > 30.0 with inclusive=False)
    off when value <  28.0   (28.0 itself keeps it on)

For Direction.BELOW the comparisons mirror: on at <= enter (< enter when not
inclusive), off only at > leave. Between the two thresholds the latch keeps
whatever state it had, which is the whole point.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Direction(enum.Enum):
    ABOVE = "above"  # alarm when the value is high
    BELOW = "below"  # alarm when the value is low


@dataclass
class Latch:
    name: str
    direction: Direction
    enter: float
    leave: float
    inclusive: bool = True  # does reaching `enter` exactly count?
    active: bool = False

    def update(self, value: float) -> bool:
        """Feeds one measurement; returns True when the latch flipped."""
        was = self.active
        self.active = self._stays_on(value) if was else self._turns_on(value)
        return self.active != was

    def _turns_on(self, value: float) -> bool:
        if self.direction is Direction.ABOVE:
            return value >= self.enter if self.inclusive else value > self.enter
        return value <= self.enter if self.inclusive else value < self.enter

    def _stays_on(self, value: float) -> bool:
        # Off only strictly past `leave`: a reading exactly on it keeps the alarm.
        if self.direction is Direction.ABOVE:
            return not value < self.leave
        return not value > self.leave

    def describe(self, unit: str = "") -> str:
        """The rule in words, for log lines: "on at >= 30 °C, off below 28 °C"."""
        if self.direction is Direction.ABOVE:
            on, off = (">=" if self.inclusive else ">"), "below"
        else:
            on, off = ("<=" if self.inclusive else "<"), "above"
        return f"on at {on} {self.enter:g}{unit}, off {off} {self.leave:g}{unit}"
