"""WIT interface ``types``: shared records and the log level."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional


@dataclass
class Field:
    """WIT record field (interface types)."""

    name: str
    value: float
    unit: str


@dataclass
class Reading:
    """WIT record reading (interface types)."""

    sensor: str
    fields: list[Field]
    extra: Optional[str]


class Level(enum.Enum):
    """WIT enum level (interface types)."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4


__all__ = ["Field", "Reading", "Level"]
