"""Exported WIT interfaces: one module per interface with its types
(``harvester.exports.bme680_logic``) and an optional base class per
interface (``harvester.exports.Bme680Logic``) whose methods raise
NotImplementedError, as the real SDK's bootstrap makes them."""

from __future__ import annotations

from typing import Any

from . import (bme680_logic, dashboard_logic, dht22_logic, oled_logic, pi_monitor_logic,
               sensor_logic)


def _base(cls_name: str, iface: str, methods: dict[str, str]) -> type:
    """A base class whose methods raise NotImplementedError."""
    namespace: dict[str, Any] = {
        "__doc__": f"Base class (optional) for the app's implementation of WIT interface {iface}.",
        "__module__": __name__,
    }
    for name, wit in methods.items():
        def method(self: Any, *args: Any, _name: str = name, **kwargs: Any) -> Any:
            raise NotImplementedError(f"{cls_name}.{_name} is not implemented")

        method.__name__ = name
        method.__qualname__ = f"{cls_name}.{name}"
        method.__doc__ = f"{iface}.{wit}"
        namespace[name] = method
    return type(cls_name, (), namespace)


Dht22Logic = _base("Dht22Logic", "dht22-logic", {"poll": "poll: func() -> list<dht22-reading>"})
Bme680Logic = _base("Bme680Logic", "bme680-logic", {"poll": "poll: func() -> list<bme680-reading>"})
PiMonitorLogic = _base("PiMonitorLogic", "pi-monitor-logic", {"poll": "poll: func() -> pi-stats"})
DashboardLogic = _base("DashboardLogic", "dashboard-logic", {"render": "render: func(sensor-data: string) -> string"})
OledLogic = _base("OledLogic", "oled-logic", {"update": "update: func(sensor-data: string)"})
SensorLogic = _base("SensorLogic", "sensor-logic", {"poll": "poll: func() -> result<list<reading>, string>"})

__all__ = ["Dht22Logic", "Bme680Logic", "PiMonitorLogic", "DashboardLogic", "OledLogic", "SensorLogic",
           "dht22_logic", "bme680_logic", "pi_monitor_logic", "dashboard_logic", "oled_logic", "sensor_logic"]
