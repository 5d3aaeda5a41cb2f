"""The smallest sensor: one reading, no host calls."""

from harvester.imports.types import Field, Reading


class SensorLogic:
    def poll(self) -> list[Reading]:
        return [Reading(sensor="baseline", fields=[Field(name="x", value=1.0, unit="")], extra=None)]
