"""WIT interface ``bme680-logic``."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class IaqAccuracy(enum.Enum):
    """WIT enum iaq-accuracy (interface bme680-logic)."""

    CALIBRATING = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass
class Bme680Reading:
    """WIT record bme680-reading (interface bme680-logic)."""

    sensor_id: str
    temperature: float
    humidity: float
    pressure: float
    gas_resistance: float
    iaq: float
    iaq_accuracy: IaqAccuracy


__all__ = ["IaqAccuracy", "Bme680Reading"]
