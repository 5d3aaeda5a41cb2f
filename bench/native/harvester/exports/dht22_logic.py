"""WIT interface ``dht22-logic``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Dht22Reading:
    """WIT record dht22-reading (interface dht22-logic)."""

    sensor_id: str
    temperature: float
    humidity: float


__all__ = ["Dht22Reading"]
